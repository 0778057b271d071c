"""ImageNet ResNet-18 checkpoints of torchvision, timm and mmpretrain layout
(written here from torchvision's resnet18 with random weights) load into
the change models' ResNetV1c through ``init_cfg``."""
import pytest
import torch
from mmengine.logging import MMLogger
from torchvision.models import resnet18

from seg_plugins.models.change_detectors.siamese_resnet import SiameseResNetV1c
from seg_plugins.models.utils.resnet_weights import to_resnet_v1c, unwrap


@pytest.fixture(scope='module')
def torchvision_sd():
    torch.manual_seed(0)
    return resnet18(weights=None).state_dict()


def deep_stem(prefix_conv, prefix_bn):
    """A ResNet-D stem's tensors: 3x3 convs 3->32->32->64 and their BNs,
    under the given key names (3 convs, 3 norms)."""
    sd = {}
    for i, (cin, cout) in enumerate(((3, 32), (32, 32), (32, 64))):
        sd[prefix_conv[i] + 'weight'] = torch.randn(cout, cin, 3, 3)
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            sd[prefix_bn[i] + name] = torch.rand(cout)
        sd[prefix_bn[i] + 'num_batches_tracked'] = torch.tensor(7)
    return sd


def timm_resnet18d(tv):
    """timm resnet18d's layout: conv1.{0,3,6} / conv1.{1,4} / bn1 stem and
    (AvgPool, conv, norm) shortcuts."""
    sd = {}
    for k, v in tv.items():
        if k.startswith(('conv1', 'bn1')):
            continue
        for i in (1, 0):
            k = k.replace(f'.downsample.{i}.', f'.downsample.{i + 1}.')
        sd[k] = v
    sd.update(deep_stem(['conv1.0.', 'conv1.3.', 'conv1.6.'],
                        ['conv1.1.', 'conv1.4.', 'bn1.']))
    return sd


def mmpretrain_v1c(tv):
    """mmpretrain's ResNetV1c checkpoint: ConvModule stem, ``backbone.``
    prefix, ``head.fc`` classifier, under ``state_dict``."""
    sd = {'backbone.' + k: v for k, v in tv.items()
          if not k.startswith(('conv1', 'bn1', 'fc'))}
    sd.update({'backbone.' + k: v for k, v in deep_stem(
        [f'stem.{i}.conv.' for i in range(3)],
        [f'stem.{i}.bn.' for i in range(3)]).items()})
    sd['head.fc.weight'] = tv['fc.weight']
    return dict(meta=dict(mmpretrain_version='1.2.0'), state_dict=sd)


def load(path, tmp_path, in_channels=3):
    """A SiameseResNetV1c initialised from ``path``; its log's text."""
    log = tmp_path / f'{path.stem}.log'
    MMLogger.get_instance(f'resnet_weights_{path.stem}', log_file=str(log))
    torch.manual_seed(1)
    net = SiameseResNetV1c(depth=18, in_channels=in_channels,
                           init_cfg=dict(type='Pretrained',
                                         checkpoint=str(path)))
    net.init_weights()
    return net, log.read_text()


def test_torchvision_layers_load_and_the_7x7_stem_is_reported(
        torchvision_sd, tmp_path):
    path = tmp_path / 'tv.pth'
    torch.save(torchvision_sd, path)
    net, log = load(path, tmp_path)
    own = net.state_dict()
    for key in ('layer1.0.conv1.weight', 'layer2.0.downsample.0.weight',
                'layer4.1.bn2.running_var'):
        torch.testing.assert_close(own[key], torchvision_sd[key])
    assert 'a torchvision ResNet checkpoint' in log
    assert "7x7 stem cannot map to ResNetV1c's three 3x3 convs" in log
    assert 'conv1.weight, bn1.weight' in log
    # mmengine's report names the stem keys left unloaded.
    assert 'missing keys in source state_dict: stem.0.weight' in log


def test_timm_resnet18d_loads_stem_and_avg_down_shortcut(torchvision_sd,
                                                         tmp_path):
    sd = timm_resnet18d(torchvision_sd)
    path = tmp_path / 'timm.pth'
    torch.save(sd, path)
    net, log = load(path, tmp_path)
    torch.testing.assert_close(net.stem[0].weight, sd['conv1.0.weight'])
    torch.testing.assert_close(net.stem[4].running_mean,
                               sd['conv1.4.running_mean'])
    torch.testing.assert_close(net.stem[7].weight, sd['bn1.weight'])
    torch.testing.assert_close(net.layer3[0].downsample[0].weight,
                               sd['layer3.0.downsample.1.weight'])
    torch.testing.assert_close(net.layer3[0].downsample[1].bias,
                               sd['layer3.0.downsample.2.bias'])
    assert 'a timm-deep ResNet checkpoint' in log
    assert 'do not match' not in log  # everything matched


def test_mmpretrain_checkpoint_loads_and_unmatched_keys_are_named(
        torchvision_sd, tmp_path):
    ckpt = mmpretrain_v1c(torchvision_sd)
    sd = ckpt['state_dict']
    del sd['backbone.layer1.0.conv1.weight']
    sd['backbone.layer9.0.conv1.weight'] = torch.zeros(1)
    path = tmp_path / 'mmpretrain.pth'
    torch.save(ckpt, path)
    net, log = load(path, tmp_path)
    torch.testing.assert_close(net.stem[3].weight,
                               sd['backbone.stem.1.conv.weight'])
    torch.testing.assert_close(net.stem[1].bias,
                               sd['backbone.stem.0.bn.bias'])
    torch.testing.assert_close(net.layer4[1].conv2.weight,
                               sd['backbone.layer4.1.conv2.weight'])
    assert 'unexpected key in source state_dict: layer9.0.conv1.weight' in log
    assert 'missing keys in source state_dict: layer1.0.conv1.weight' in log
    assert 'head' not in log.split('unexpected key')[1]  # classifier dropped


def test_multiband_stem_is_reported_not_loaded(torchvision_sd, tmp_path):
    path = tmp_path / 'timm4.pth'
    torch.save(timm_resnet18d(torchvision_sd), path)
    net, log = load(path, tmp_path, in_channels=4)
    assert net.stem[0].weight.shape == (32, 4, 3, 3)
    assert 'stem.0.weight has shape (32, 3, 3, 3), the model (32, 4, 3, 3)' \
        in log
    torch.testing.assert_close(net.stem[3].weight,
                               torch.load(path)['conv1.3.weight'])


def test_not_a_resnet_is_a_clear_error():
    with pytest.raises(ValueError, match='not a ResNet checkpoint'):
        to_resnet_v1c(unwrap({'state_dict': {'encoder.w': torch.zeros(1)}}))


def test_config_default_downloads_nothing():
    from tests.models.resnet_cd_helpers import load_config
    for config in ('configs/changedet_bit_r18.py',
                   'configs/changedet_changerex_r18.py'):
        assert load_config(config).model.backbone.get('init_cfg') is None


def test_init_cfg_in_the_config_loads_when_the_segmentor_initialises(
        torchvision_sd, tmp_path):
    """As the runner does: the segmentor's init_weights reaches the
    backbone's; BIT's 3-stage ResNet reports layer4 as unexpected."""
    from tests.models.resnet_cd_helpers import build
    path = tmp_path / 'tv.pth'
    torch.save(torchvision_sd, path)
    log = tmp_path / 'config.log'
    MMLogger.get_instance('resnet_weights_config', log_file=str(log))
    model = build('configs/changedet_bit_r18.py', {
        'model.backbone.init_cfg': dict(type='Pretrained',
                                        checkpoint=str(path))})
    model.init_weights()
    torch.testing.assert_close(model.backbone.layer3[1].conv2.weight,
                               torchvision_sd['layer3.1.conv2.weight'])
    assert 'unexpected key in source state_dict: layer4.0.conv1.weight' in \
        log.read_text()
