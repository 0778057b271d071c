"""HANet (Han, Wu, Guo, Hu and Chen, "HANet: A Hierarchical Attention
Network for Change Detection With Bitemporal Very-High-Resolution Remote
Sensing Images", IEEE JSTARS 2023).

A siamese encoder of four feature-extraction cells (full, 1/2, 1/4 and
1/8 resolution); at each level the two dates are merged by grouped
dilated convolutions and refined by the hierarchical attention (HAN)
module, a channel-attention branch plus row-then-column self-attention;
the decoder concatenates the levels from the deepest up and returns a
full-resolution map.

Memory: the row and column attention of the full-resolution level hold a
W x W map per row and an H x H map per column: 4 GiB of float32 for one
1024 x 1024 pair. The config therefore infers by 256 x 256 slide windows,
and scene inference tiles anyway: the peak follows the window, not the
image.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, Scale, build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.decode_heads.da_head import CAM
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair


class FeatureExtractionCell(nn.Module):
    """The paper's FEC: a 3x3 conv, whose output also skips over a
    norm-act-1x1-norm block.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm_act = nn.Sequential(
            build_norm_layer(norm_cfg, out_channels)[1], nn.ReLU())
        self.proj = ConvModule(out_channels, out_channels, 1,
                               norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, C_in, H, W).

        Returns:
            Tensor: shape (N, C_out, H, W).
        """
        x = self.conv(x)
        return (self.proj(self.norm_act(x)) + x).relu()


class AxialAttention(nn.Module):
    """Self-attention along one axis: every pixel attends to the pixels of
    its row (``axis='row'``) or of its column (``axis='col'``).

    Args:
        channels (int): C of the input, the query/key and the value.
        axis (str): 'row' or 'col'.
    """

    def __init__(self, channels: int, axis: str):
        super().__init__()
        assert axis in ('row', 'col'), f"axis: 'row' or 'col', got {axis!r}"
        self.axis = axis
        self.query_conv = nn.Conv2d(channels, channels, 1)
        self.key_conv = nn.Conv2d(channels, channels, 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = Scale(0.)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: shape (N, C, H, W), ``x`` plus the scaled attention.
        """
        # Rows: (N, H, W, C) and an (N, H, W, W) map; columns: (N, W, H, C)
        # and an (N, W, H, H) map.
        perm, back = (((0, 2, 3, 1), (0, 3, 1, 2)) if self.axis == 'row'
                      else ((0, 3, 2, 1), (0, 3, 2, 1)))
        query = self.query_conv(x).permute(perm)
        key = self.key_conv(x).permute(perm)
        value = self.value_conv(x).permute(perm)
        attn = (query @ key.transpose(2, 3)).softmax(dim=-1)
        return self.gamma((attn @ value).permute(back)) + x


class HierarchicalAttention(nn.Module):
    """The HAN module: a channel-attention branch (mmseg's ``CAM``, Fu et
    al., "Dual Attention Network", 2019, on a narrow 3x3 projection) plus
    row attention applied after column attention.

    Args:
        channels (int): C of the input and output.
        cam_channels (int): Width of the channel-attention branch.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, channels: int, cam_channels: int, norm_cfg: dict):
        super().__init__()
        conv = dict(padding=1, bias=True, norm_cfg=norm_cfg,
                    act_cfg=dict(type='PReLU'))
        self.channel_attn = nn.Sequential(
            ConvModule(channels, cam_channels, 3, **conv), CAM(),
            ConvModule(cam_channels, channels, 3, **conv))
        self.col_attn = AxialAttention(channels, 'col')
        self.row_attn = AxialAttention(channels, 'row')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: shape (N, C, H, W).
        """
        return self.channel_attn(x) + self.row_attn(self.col_attn(x))


class DilatedPairFusion(nn.Module):
    """Merges one level of the two dates: four grouped 3x3 convs with
    dilations 1-4 over the stacked pair, concatenated and mixed by a 1x1
    conv.

    Args:
        channels (int): C of one date and of the output.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(2 * channels, channels, 3, padding=d, dilation=d,
                      groups=channels // 2) for d in (1, 2, 3, 4))
        self.mix = nn.Conv2d(4 * channels, channels, 1)

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """Args:
            x_a (Tensor): shape (N, C, H, W).
            x_b (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: shape (N, C, H, W).
        """
        pair = torch.cat((x_a, x_b), dim=1)
        return self.mix(torch.cat([b(pair) for b in self.branches], dim=1))


@MODELS.register_module()
class HANet(BaseModule):
    """HANet encoder and decoder; a 1x1 classifier (mmseg's ``FCNHead``
    with ``num_convs=0``) completes it.

    Both dates go through the shared encoder in one batch (in training
    their BatchNorm statistics are shared). The authors' code and
    open-cd's also build four 3x3 convs (``c1_conv`` ... ``c4_conv``,
    417,880 parameters) that the forward never calls; they are left out
    here.

    Args:
        in_channels (int): Bands of ONE date; the input stacks two dates.
            Default: 3.
        base_channels (int): Width of the full-resolution level; the
            levels have 1, 2, 4 and 8 times it. Default: 40.
        cam_channels (int): Width of the channel-attention branches.
            Default: 32.
        out_channels (int, optional): Channels of the output map.
            Default: 2 * base_channels.
        norm_cfg (dict): Norm layer config. Default: BN.
        init_cfg (dict | list[dict], optional): Default: Kaiming normal
            (fan_out) convs and unit norms, as the authors initialise.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 40,
                 cam_channels: int = 32,
                 out_channels: Optional[int] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                          nonlinearity='relu', distribution='normal'),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(init_cfg)
        self.in_channels = in_channels
        widths = [base_channels * 2**i for i in range(4)]
        self.widths = widths
        self.stem = nn.Conv2d(in_channels, widths[0], 5, padding=2)
        self.encoder = nn.ModuleList(
            FeatureExtractionCell(c_in, c_out, norm_cfg)
            for c_in, c_out in zip(widths[:1] + widths[:-1], widths))
        self.pool = nn.AvgPool2d(2, 2)
        self.fusions = nn.ModuleList(DilatedPairFusion(c) for c in widths)
        self.attentions = nn.ModuleList(
            HierarchicalAttention(c, cam_channels, norm_cfg) for c in widths)
        self.out_conv = nn.Conv2d(sum(widths), out_channels or widths[1], 1)

    def encode(self, x: torch.Tensor) -> Sequence[torch.Tensor]:
        """Args:
            x (Tensor): shape (M, in_channels, H, W).

        Returns:
            list[Tensor]: 4 levels, (M, widths[i], H/2^i, W/2^i).
        """
        feats = [self.encoder[0](self.stem(x))]
        for cell in self.encoder[1:]:
            feats.append(cell(self.pool(feats[-1])))
        return feats

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): the pair, shape (N, 2 * in_channels, H, W).

        Returns:
            list[Tensor]: one map, (N, out_channels, H, W).
        """
        x_a, x_b = split_pair(x, self.in_channels, type(self).__name__)
        n = x_a.shape[0]
        feats = self.encode(torch.cat((x_a, x_b), dim=0))
        out = None
        for level in (3, 2, 1, 0):
            f = feats[level]
            y = self.attentions[level](self.fusions[level](f[:n], f[n:]))
            if out is not None:
                y = torch.cat((y, resize(out, size=y.shape[2:],
                                         mode='bilinear',
                                         align_corners=False)), dim=1)
            out = y
        return [self.out_conv(out)]
