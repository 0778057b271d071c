import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from seg_plugins.models.backbones import StridedConvUNet


# The U-Net of the tutorial "图像分割", verbatim in structure, as the
# reference for parameter parity.
class TutorialConvBlock(nn.Module):

    def __init__(self, c_in, c_out):
        super().__init__()
        self.layer = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 1, 1, padding_mode='reflect',
                      bias=False), nn.BatchNorm2d(c_out), nn.Dropout2d(0.3),
            nn.LeakyReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, padding_mode='reflect',
                      bias=False), nn.BatchNorm2d(c_out), nn.Dropout2d(0.3),
            nn.LeakyReLU())


class TutorialDownSample(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.layer = nn.Sequential(
            nn.Conv2d(c, c, 3, 2, 1, padding_mode='reflect', bias=False),
            nn.BatchNorm2d(c), nn.LeakyReLU())


class TutorialUpSample(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.layer = nn.Conv2d(c, c // 2, 1, 1)

    def forward(self, x, skip):
        return torch.cat((self.layer(F.interpolate(x, scale_factor=2)), skip),
                         1)


class TutorialUNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.c1, self.d1 = TutorialConvBlock(3, 64), TutorialDownSample(64)
        self.c2, self.d2 = TutorialConvBlock(64, 128), TutorialDownSample(128)
        self.c3, self.d3 = TutorialConvBlock(128, 256), TutorialDownSample(256)
        self.c4, self.d4 = TutorialConvBlock(256, 512), TutorialDownSample(512)
        self.c5 = TutorialConvBlock(512, 1024)
        self.u1, self.c6 = TutorialUpSample(1024), TutorialConvBlock(1024, 512)
        self.u2, self.c7 = TutorialUpSample(512), TutorialConvBlock(512, 256)
        self.u3, self.c8 = TutorialUpSample(256), TutorialConvBlock(256, 128)
        self.u4, self.c9 = TutorialUpSample(128), TutorialConvBlock(128, 64)
        self.out = nn.Conv2d(64, 3, 3, 1, 1)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_parity_with_tutorial_unet():
    ref = TutorialUNet()
    assert n_params(StridedConvUNet()) == n_params(ref) - n_params(ref.out)


def test_layer_order_matches_tutorial_conv_block():
    block = StridedConvUNet().encoder.blocks[0]
    kinds = [type(m).__name__ for m in block]
    assert kinds == ['Conv2d', 'BatchNorm2d', 'Dropout2d', 'LeakyReLU'] * 2
    assert block[0].padding_mode == 'reflect' and block[0].bias is None


@pytest.mark.parametrize('base,stages,in_ch', [(8, 5, 3), (4, 3, 6)])
def test_output_shapes_finest_last(base, stages, in_ch):
    net = StridedConvUNet(in_channels=in_ch, base_channels=base,
                          num_stages=stages)
    outs = net(torch.randn(2, in_ch, 32, 48))
    assert len(outs) == stages
    for i, out in enumerate(outs):
        scale = 2**(stages - 1 - i)
        assert out.shape == (2, base * scale, 32 // scale, 48 // scale)


def test_tutorial_widths_by_default():
    net = StridedConvUNet()
    assert net.encoder.channels == [64, 128, 256, 512, 1024]


def test_bad_input_size_is_a_clear_error():
    net = StridedConvUNet(base_channels=4)
    with pytest.raises(ValueError, match=r'divisible by 16 .*got 30x32'):
        net(torch.randn(1, 3, 30, 32))
    # Divisible, but the deepest map (1 pixel) is too small to reflect-pad.
    with pytest.raises(ValueError, match=r'at least 32, got 16x64'):
        net(torch.randn(1, 3, 16, 64))
    assert net(torch.randn(1, 3, 32, 64))[-1].shape[-2:] == (32, 64)
    # Zero padding has no such minimum.
    zeros = StridedConvUNet(base_channels=4, padding_mode='zeros')
    assert zeros(torch.randn(1, 3, 16, 64))[-1].shape[-2:] == (16, 64)


def test_norm_and_act_cfg_are_used():
    net = StridedConvUNet(base_channels=4, num_stages=3,
                   norm_cfg=dict(type='GN', num_groups=2),
                   act_cfg=dict(type='ReLU'))
    kinds = {type(m).__name__ for m in net.modules()}
    assert {'GroupNorm', 'ReLU'} <= kinds
    assert not {'BatchNorm2d', 'LeakyReLU'} & kinds
