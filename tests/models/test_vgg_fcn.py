"""VGG16 backbone, SkipFCNHead (FCN-32s/16s/8s and the deconv+BN decoder)."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import get_torchvision_models
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import seg_plugins  # noqa: F401  (registration)
from seg_plugins.models.utils.fcn_blocks import align_to, bilinear_kernel

NUM_CLASSES = 21
# in_channels / in_index of the three FCN variants over VGG16 with fc7.
VARIANTS = {0: ([4096], [2]), 1: ([512, 4096], [1, 2]),
            2: ([256, 512, 4096], [0, 1, 2])}


def vgg_like_feats(h, w, top_channels=4096, batch=1):
    """Random maps with the shapes VGG16 gives for an (h, w) input:
    pool3, pool4 and pool5/fc7 (pools round down)."""
    return [
        torch.rand(batch, c, h // s, w // s)
        for c, s in ((256, 8), (512, 16), (top_channels, 32))
    ]


def build_head(skips, style, **kwargs):
    if style == 'paper':
        in_channels, in_index = VARIANTS[skips]
        channels = in_channels[-1]
    else:  # deconv+BN: VGG16 without fc, pool5 has 512 channels
        in_channels, in_index = VARIANTS[skips]
        in_channels = in_channels[:-1] + [512]
        channels = 32
    cfg = dict(type='SkipFCNHead', in_channels=in_channels,
               in_index=in_index, channels=channels, skips=skips,
               style=style, num_classes=NUM_CLASSES, dropout_ratio=0.0)
    if style == 'deconv_bn':
        cfg['norm_cfg'] = dict(type='BN')
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head.eval()


@pytest.mark.parametrize('size', [(224, 224), (250, 333)])
@pytest.mark.parametrize('skips', [0, 1, 2])
def test_paper_head_output_stride(skips, size):
    h, w = size
    head = build_head(skips, 'paper')
    with torch.no_grad():
        out = head(vgg_like_feats(h, w))
    stride = 32 // 2**skips
    assert out.shape == (1, NUM_CLASSES, h // stride, w // stride)


@pytest.mark.parametrize('size', [(224, 224), (250, 333)])
@pytest.mark.parametrize('skips', [0, 2])
def test_deconv_bn_head_output_shape(skips, size):
    h, w = size
    head = build_head(skips, 'deconv_bn')
    with torch.no_grad():
        out = head(vgg_like_feats(h, w, top_channels=512))
    # Five x2 stages; the last skip used (pool3 at 1/8 for 8s, none: pool5
    # at 1/32) fixes the size the stages after it double.
    base = 32 // 2**skips
    assert out.shape == (1, NUM_CLASSES, h // base * base, w // base * base)


def test_head_rejects_inconsistent_config():
    with pytest.raises(AssertionError, match='needs 3 inputs'):
        build_head(2, 'paper', in_channels=[512, 4096], in_index=[1, 2])
    with pytest.raises(AssertionError, match='channels must be'):
        build_head(1, 'paper', channels=512)
    with pytest.raises(AssertionError, match='style must be one of'):
        build_head(2, 'caffe')


def test_bilinear_kernel_values_and_upsampling():
    k = bilinear_kernel(3, 4)
    assert k.shape == (3, 3, 4, 4)
    row = torch.tensor([0.25, 0.75, 0.75, 0.25])
    for i in range(3):
        assert torch.allclose(k[i, i], row[:, None] * row[None, :])
        for j in range(3):
            if j != i:
                assert not k[i, j].any()
    # A ramp upsampled by the transposed conv equals bilinear interpolation
    # (half-pixel centres) away from the zero-padded border.
    x = torch.arange(8.).reshape(1, 1, 1, 8).expand(1, 1, 8, 8).clone()
    up = F.conv_transpose2d(x, bilinear_kernel(1, 4), stride=2, padding=1)
    ref = F.interpolate(x, scale_factor=2, mode='bilinear',
                        align_corners=False)
    assert up.shape == ref.shape == (1, 1, 16, 16)
    assert torch.allclose(up[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1])


@pytest.mark.parametrize('skips', [1, 2])
def test_paper_upsampling_initialised_bilinear(skips):
    head = build_head(skips, 'paper')
    ups = [m for m in head.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(ups) == skips
    for up in ups:
        assert up.weight.shape == (NUM_CLASSES, NUM_CLASSES, 4, 4)
        assert torch.equal(up.weight, bilinear_kernel(NUM_CLASSES, 4))
        assert up.stride == (2, 2) and up.bias is None
    # Zero-initialised score layers: FCN-8s starts from FCN-32s's
    # predictions upsampled bilinearly (paper, section 4.2).
    feats = vgg_like_feats(64, 96)
    with torch.no_grad():
        fused = head(feats)
        coarse = head.cls_seg(feats[-1])
        for stage in head.stages:
            coarse = stage.upsample(coarse)
    assert torch.allclose(fused, align_to(coarse, fused.shape[-2:]))


def test_align_to_crops_and_pads_bottom_right():
    x = torch.arange(12.).reshape(1, 1, 3, 4)
    assert torch.equal(align_to(x, (2, 3)), x[..., :2, :3])
    padded = align_to(x, (4, 5))
    assert padded.shape == (1, 1, 4, 5)
    assert torch.equal(padded[..., :3, :4], x)
    assert torch.equal(padded[0, 0, 3, :4], x[0, 0, 2])  # replicated row


@pytest.fixture(scope='module')
def torchvision_vgg16(tmp_path_factory):
    """A torchvision VGG16 (random weights) and its state dict on disk, as
    ``torchvision.models.vgg16(weights='DEFAULT')`` users would have it."""
    torch.manual_seed(0)
    net = torchvision.models.vgg16(weights=None).eval()
    path = tmp_path_factory.mktemp('vgg') / 'vgg16_torchvision.pth'
    torch.save(net.state_dict(), path)
    return net, path


def test_vgg16_loads_torchvision_weights_with_fc(torchvision_vgg16):
    tv, path = torchvision_vgg16
    backbone = MODELS.build(
        dict(type='VGG16', with_fc=True, fc6_padding=0, out_indices=(2, 4),
             init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    backbone.init_weights()
    backbone.eval()
    sd = backbone.state_dict()
    assert torch.equal(sd['features.28.weight'],
                       tv.state_dict()['features.28.weight'])
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        pool3, fc7 = backbone(x)
        feats = tv.features(x)
        ref_fc7 = tv.classifier[:5](torch.flatten(tv.avgpool(feats), 1))
        ref_pool3 = tv.features[:17](x)
    assert pool3.shape == (1, 256, 28, 28)
    assert torch.allclose(pool3, ref_pool3)
    # fc6/fc7 as convolutions compute torchvision's fc layers at 224x224.
    assert fc7.shape == (1, 4096, 1, 1)
    assert torch.allclose(fc7.flatten(1), ref_fc7, atol=1e-5, rtol=1e-4)


def test_vgg16_without_fc_ignores_classifier(torchvision_vgg16):
    tv, path = torchvision_vgg16
    backbone = MODELS.build(
        dict(type='VGG16', out_indices=(3, 4),
             init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    backbone.init_weights()
    assert not any(k.startswith(('fc', 'classifier'))
                   for k in backbone.state_dict())
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        pool4, pool5 = backbone.eval()(x)
        assert torch.allclose(pool5, tv.features(x))
    assert pool4.shape == (1, 512, 4, 6)
    assert backbone.out_channels == [512, 512]


def test_torchvision_scheme_names_vgg16():
    """``torchvision://vgg16`` in the configs resolves to torchvision's
    ImageNet weights (downloaded by mmengine when a user runs them)."""
    url = get_torchvision_models()['vgg16']
    assert url.startswith('https://') and 'vgg16' in url


class TutorialFCN8s(nn.Module):
    """The FCN8s of the tutorial "pytorch使用voc分割数据集训练FCN流程讲解",
    verbatim apart from ``pretrained=True`` (no downloads here)."""

    def __init__(self, num_classes=21):
        super().__init__()
        self.premodel = torchvision.models.vgg16(weights=None).features
        self.relu = nn.ReLU(inplace=True)
        chans = [512, 512, 256, 128, 64, 32]
        for i in range(5):
            setattr(self, f'deconv{i + 1}', nn.ConvTranspose2d(
                chans[i], chans[i + 1], kernel_size=3, stride=2, padding=1,
                dilation=1, output_padding=1))
            setattr(self, f'bn{i + 1}', nn.BatchNorm2d(chans[i + 1]))
        self.classifier = nn.Conv2d(32, num_classes, kernel_size=1)

    def forward(self, x):
        for i in range(len(self.premodel)):
            x = self.premodel[i](x)
            if i == 16:
                x3 = x
            if i == 23:
                x4 = x
        score = self.relu(self.deconv1(x))
        score = self.bn1(score + x4)
        score = self.relu(self.deconv2(score))
        score = self.bn2(score + x3)
        score = self.bn3(self.relu(self.deconv3(score)))
        score = self.bn4(self.relu(self.deconv4(score)))
        score = self.bn5(self.relu(self.deconv5(score)))
        return self.classifier(score)


def test_deconv_bn_style_computes_the_tutorials_fcn8s():
    torch.manual_seed(0)
    ref = TutorialFCN8s().eval()
    for bn in [m for m in ref.modules() if isinstance(m, nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.1, 0.1)  # non-trivial statistics
        bn.running_var.uniform_(0.5, 2.0)
    backbone = MODELS.build(dict(type='VGG16'))
    head = build_head(2, 'deconv_bn')
    ours = nn.ModuleDict(dict(backbone=backbone, head=head)).eval()
    n_ref = sum(p.numel() for p in ref.parameters())
    assert n_ref == sum(p.numel() for p in ours.parameters())
    # Copy the tutorial's weights over by name.
    mapping = {'premodel.': 'backbone.features.', 'classifier.':
               'head.conv_seg.'}
    for i in range(1, 6):
        mapping[f'deconv{i}.'] = f'head.stages.{i - 1}.upsample.'
        mapping[f'bn{i}.'] = f'head.stages.{i - 1}.norm.'
    state = {}
    for key, value in ref.state_dict().items():
        prefix = next(p for p in mapping if key.startswith(p))
        state[mapping[prefix] + key[len(prefix):]] = value
    ours.load_state_dict(state, strict=True)
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(head(backbone(x)), ref(x), atol=1e-5)


def test_segmentor_predicts_input_size_for_odd_sizes():
    """FCN-8s (paper, small fc) in mmseg's EncoderDecoder: logits and
    predictions come back at the input size for 250x333."""
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(type='VGG16', with_fc=True, fc_channels=32),
        decode_head=dict(type='SkipFCNHead', in_channels=[256, 512, 32],
                         in_index=[0, 1, 2], channels=32, skips=2,
                         num_classes=NUM_CLASSES, dropout_ratio=0.0),
        test_cfg=ConfigDict(mode='whole')))
    model.init_weights()
    model.eval()
    x = torch.rand(1, 3, 250, 333)
    meta = dict(img_shape=(250, 333), ori_shape=(250, 333),
                pad_shape=(250, 333))
    sample = SegDataSample(metainfo=meta)
    with torch.no_grad():
        logits = model(x, [sample], mode='tensor')
        assert logits.shape == (1, NUM_CLASSES, 250 // 8, 333 // 8)
        pred = model(x, [sample], mode='predict')[0]
    assert pred.seg_logits.data.shape == (NUM_CLASSES, 250, 333)
    assert pred.pred_sem_seg.data.shape == (1, 250, 333)
    # Training: the loss is computed against full-size labels.
    sample = SegDataSample(metainfo=meta)
    sample.gt_sem_seg = PixelData(
        data=torch.randint(0, NUM_CLASSES, (1, 250, 333)))
    model.train()
    losses = model(x, [sample], mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    lateral = model.decode_head.stages[1].lateral.weight
    assert lateral.grad is not None and lateral.grad.abs().sum() > 0


def test_vgg16_names_too_small_inputs():
    backbone = MODELS.build(dict(type='VGG16', out_indices=(2, 3, 4)))
    with pytest.raises(ValueError, match=r'at least 32x32 .* got \(20, 28\)'):
        backbone(torch.rand(1, 3, 20, 28))
    # Stage 2 (pool3, 1/8) only needs 8 pixels.
    pool3 = MODELS.build(dict(type='VGG16', out_indices=(2, )))
    assert pool3(torch.rand(1, 3, 8, 12))[0].shape == (1, 256, 1, 1)
