"""Blocks of the strided-conv U-Net variant, shared by every U-Net here.

U-Net is Ronneberger et al. 2015; this variant (strided 3x3 conv
down-sampling, nearest up-sampling + 1x1 conv, reflect padding, Dropout2d,
LeakyReLU) is the tutorial "图像分割"'s. ``ConvBlock``, ``DownSample`` and
``UpSample`` follow its ``Conv_Block``, ``DownSample`` and ``UpSample`` layer
for layer (so parameter counts match), with norm/activation configurable the
mmcv way.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmengine.model import BaseModule


class ConvBlock(nn.Sequential):
    """Twice [3x3 conv (no bias) -> norm -> Dropout2d -> activation].

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        dropout_ratio (float): ``Dropout2d`` probability. Default: 0.3.
        padding_mode (str): Padding of the convolutions. Default: 'reflect'.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='LeakyReLU')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 dropout_ratio: float = 0.3,
                 padding_mode: str = 'reflect',
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='LeakyReLU')):
        layers = []
        for c_in in (in_channels, out_channels):
            layers += [
                nn.Conv2d(c_in, out_channels, 3, 1, 1, bias=False,
                          padding_mode=padding_mode),
                build_norm_layer(norm_cfg, out_channels)[1],
                # The tutorial drops whole channels between norm and
                # activation, which ConvModule's order cannot express.
                nn.Dropout2d(dropout_ratio),
                build_activation_layer(act_cfg),
            ]
        super().__init__(*layers)


class DownSample(ConvModule):
    """3x3 stride-2 conv (no bias) -> norm -> activation; keeps channels.

    Args:
        channels (int): Input and output channels.
        padding_mode (str): Padding of the convolution. Default: 'reflect'.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='LeakyReLU')``.
    """

    def __init__(self,
                 channels: int,
                 padding_mode: str = 'reflect',
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='LeakyReLU')):
        super().__init__(
            channels, channels, 3, stride=2, padding=1, bias=False,
            padding_mode=padding_mode, norm_cfg=norm_cfg, act_cfg=act_cfg)


class UpSample(nn.Module):
    """Nearest x2 upsampling, 1x1 conv halving channels, concat with a skip.

    Args:
        channels (int): Channels of the coarse input; the output of the 1x1
            conv has ``channels // 2``.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels // 2, 1, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): Coarse features, shape (N, C, H, W).
            skip (Tensor): Skip features, shape (N, C_s, 2H, 2W).

        Returns:
            Tensor: shape (N, C // 2 + C_s, 2H, 2W).
        """
        x = self.conv(F.interpolate(x, scale_factor=2, mode='nearest'))
        return torch.cat((x, skip), dim=1)


def stage_channels(base_channels: int, num_stages: int) -> List[int]:
    """Channels per encoder stage: base, 2*base, ... (64-128-256-512-1024)."""
    return [base_channels * 2**i for i in range(num_stages)]


def check_input_size(x: torch.Tensor, num_stages: int, name: str,
                     padding_mode: str = 'reflect') -> None:
    """Raise a clear error unless H and W divide by 2**(num_stages-1) and,
    with reflect padding (which needs a map larger than the padding), the
    deepest map keeps at least 2 pixels."""
    div = 2**(num_stages - 1)
    min_size = 2 * div if padding_mode == 'reflect' else div
    h, w = x.shape[-2:]
    if h % div or w % div or min(h, w) < min_size:
        raise ValueError(
            f'{name} with {num_stages} stages and {padding_mode!r} padding '
            f'needs input height and width divisible by {div} and at least '
            f'{min_size}, got {h}x{w}. Pad the input, e.g. with '
            f'data_preprocessor=dict(size_divisor={div}, test_cfg=dict('
            f'size_divisor={div})) for the divisibility or a Pad transform '
            f'for the minimum size.')


class StridedUNetEncoder(BaseModule):
    """The contracting path: ConvBlock, then (DownSample, ConvBlock) per stage.

    Args:
        in_channels (int): Input channels.
        base_channels (int): Channels of the first stage; doubled per stage.
        num_stages (int): Number of ConvBlocks (downsamplings + 1).
        dropout_ratio (float): ``Dropout2d`` probability in ConvBlocks.
        padding_mode (str): Padding of every 3x3 convolution.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, in_channels: int, base_channels: int, num_stages: int,
                 dropout_ratio: float, padding_mode: str, norm_cfg: dict,
                 act_cfg: dict, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        assert num_stages >= 2, f'num_stages must be >= 2, got {num_stages}'
        self.channels = stage_channels(base_channels, num_stages)
        common = dict(padding_mode=padding_mode, norm_cfg=norm_cfg,
                      act_cfg=act_cfg)
        self.downs = nn.ModuleList(
            DownSample(c, **common) for c in self.channels[:-1])
        ins = [in_channels] + self.channels[:-1]
        self.blocks = nn.ModuleList(
            ConvBlock(i, o, dropout_ratio, **common)
            for i, o in zip(ins, self.channels))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, in_channels, H, W).

        Returns:
            list[Tensor]: per stage i, shape (N, base * 2**i, H / 2**i,
            W / 2**i); finest first.
        """
        feats = [self.blocks[0](x)]
        for down, block in zip(self.downs, self.blocks[1:]):
            feats.append(block(down(feats[-1])))
        return feats


class StridedUNetDecoder(BaseModule):
    """The expanding path: per stage UpSample (+skip) then ConvBlock.

    Args:
        channels (Sequence[int]): Encoder stage channels, finest first.
        skip_channels (Sequence[int]): Channels of the skip fed at each
            stage but the deepest, finest first (``channels[:-1]`` for a
            plain U-Net; doubled when two encoders' skips are concatenated).
        dropout_ratio, padding_mode, norm_cfg, act_cfg: as the encoder.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, channels: Sequence[int], skip_channels: Sequence[int],
                 dropout_ratio: float, padding_mode: str, norm_cfg: dict,
                 act_cfg: dict, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        assert len(skip_channels) == len(channels) - 1, (
            f'need one skip per stage but the deepest: {len(channels) - 1}, '
            f'got {len(skip_channels)}')
        common = dict(padding_mode=padding_mode, norm_cfg=norm_cfg,
                      act_cfg=act_cfg)
        # Deepest first, as the decoder runs.
        pairs = list(zip(channels[1:], channels[:-1], skip_channels))[::-1]
        self.ups = nn.ModuleList(UpSample(c_in) for c_in, _, _ in pairs)
        self.blocks = nn.ModuleList(
            ConvBlock(c_in // 2 + c_skip, c_out, dropout_ratio, **common)
            for c_in, c_out, c_skip in pairs)

    def forward(self, x: torch.Tensor,
                skips: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Args:
            x (Tensor): Deepest features, shape (N, channels[-1], h, w).
            skips (Sequence[Tensor]): Skip features, finest first.

        Returns:
            list[Tensor]: ``x`` then each decoder stage's output, finest last
            (the order mmseg's ``UNet`` uses, so its heads' ``in_index``
            carries over).
        """
        outs = [x]
        for up, block, skip in zip(self.ups, self.blocks, skips[::-1]):
            outs.append(block(up(outs[-1], skip)))
        return outs
