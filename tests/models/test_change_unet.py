import pytest
import torch

from seg_plugins.models.backbones import ChangeUNet


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('fusion', ['early', 'siam_concat', 'siam_diff'])
def test_output_shapes(fusion):
    net = ChangeUNet(fusion=fusion, base_channels=4, num_stages=4)
    outs = net(torch.randn(2, 6, 32, 16))
    assert outs[-1].shape == (2, 4, 32, 16)
    assert outs[-2].shape == (2, 8, 16, 8)
    deepest = 32 * (2 if fusion == 'siam_concat' else 1)
    assert outs[0].shape == (2, deepest, 4, 2)


def test_early_fusion_sees_both_images_at_the_input():
    net = ChangeUNet(fusion='early', base_channels=4, num_stages=3)
    assert net.encoder.blocks[0][0].in_channels == 6


@pytest.mark.parametrize('fusion', ['siam_concat', 'siam_diff'])
def test_siamese_encoder_is_one_shared_parameter_set(fusion):
    net = ChangeUNet(fusion=fusion, base_channels=4, num_stages=3)
    assert net.encoder.blocks[0][0].in_channels == 3
    encoders = [m for m in net.modules() if type(m).__name__ ==
                'StridedUNetEncoder']
    assert len(encoders) == 1
    single = ChangeUNet(fusion=fusion, base_channels=4, num_stages=3)
    assert n_params(net.encoder) == n_params(single.encoder)


def test_siam_diff_is_symmetric_in_the_dates():
    torch.manual_seed(0)
    net = ChangeUNet(fusion='siam_diff', base_channels=4, num_stages=3).eval()
    x = torch.randn(1, 6, 16, 16)
    swapped = torch.cat([x[:, 3:], x[:, :3]], dim=1)
    torch.testing.assert_close(net(x)[-1], net(swapped)[-1])


def test_variants_differ_only_where_fusion_requires():
    sizes = {
        f: n_params(ChangeUNet(fusion=f, base_channels=4, num_stages=3))
        for f in ('early', 'siam_concat', 'siam_diff')
    }
    assert sizes['siam_diff'] < sizes['early'] < sizes['siam_concat']


def test_bad_inputs_are_clear_errors():
    net = ChangeUNet(base_channels=4, num_stages=3)
    with pytest.raises(ValueError, match='2 images x 3 channels = 6, got 3'):
        net(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match='divisible by 4 .*got 18x16'):
        net(torch.randn(1, 6, 18, 16))
    with pytest.raises(AssertionError, match='fusion must be in'):
        ChangeUNet(fusion='late')
