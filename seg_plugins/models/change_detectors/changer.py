"""ChangerEx's decoder (Fang, Li and Li 2023, "Changer:
Feature Interaction is What You Need for Change Detection", IEEE TGRS).

ChangerEx is ``SiameseResNetV1c`` with spatial and channel exchange between
the dates (``siamese_resnet.py``) and this head: an MLP decoder per date
(1x1 convs of every level, resized to 1/4 and fused), flow dual-alignment
fusion (FDAF: each date is warped towards the other by a learned flow, then
the other is subtracted), a MixFFN projection and a 1x1 classifier. Logits
come out at 1/4 of the input; mmseg's loss and inference resize them.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.backbones.mit import MixFFN
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


def warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``x`` at each pixel moved by ``flow`` (bilinear, zeros
    outside).

    The flow is divided by (W, H) and added to the [-1, 1] sampling grid,
    the convention of semantic flow (Li et al. 2020, "Semantic Flow for
    Fast and Accurate Scene Parsing") that FDAF follows.

    Args:
        x (Tensor): shape (N, C, H, W).
        flow (Tensor): (dx, dy) per pixel, shape (N, 2, H, W).

    Returns:
        Tensor: shape (N, C, H, W).
    """
    h, w = x.shape[-2:]
    xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)
    ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)
    grid = torch.stack((xs.view(1, 1, -1) + flow[:, 0] / w,
                        ys.view(1, -1, 1) + flow[:, 1] / h), dim=-1)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=True)


class FlowDualAlignment(nn.Module):
    """Flow dual-alignment fusion (FDAF).

    A depth-wise 5x5 conv, instance norm, GELU and a 1x1 conv predict two
    flows from the concatenated dates; A warped by the first minus B and B
    warped by the second minus A are concatenated.

    Args:
        channels (int): Channels C of one date.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.flow = nn.Sequential(
            nn.Conv2d(2 * channels, 2 * channels, 5, padding=2,
                      groups=2 * channels),
            nn.InstanceNorm2d(2 * channels), nn.GELU(),
            nn.Conv2d(2 * channels, 4, 1, bias=False))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Args:
            a (Tensor): date A, shape (N, C, H, W).
            b (Tensor): date B, shape (N, C, H, W).

        Returns:
            Tensor: shape (N, 2C, H, W).
        """
        flow_a, flow_b = self.flow(torch.cat((a, b), dim=1)).chunk(2, dim=1)
        return torch.cat((warp(a, flow_a) - b, warp(b, flow_b) - a), dim=1)


@MODELS.register_module()
class ChangerHead(BaseDecodeHead):
    """ChangerEx's decode head.

    Args:
        in_channels (list[int]): Channels of ONE date at each selected
            backbone level, e.g. [64, 128, 256, 512] for ResNet-18.
        channels (int): Width of the per-level convs and of the fused
            pair (each date is fused to ``channels // 2``).
        interpolate_mode (str): Resize of the levels to the finest.
        **kwargs: mmseg ``BaseDecodeHead`` arguments (in_index,
            num_classes, norm_cfg, sampler, loss_decode, ...).
    """

    def __init__(self, interpolate_mode: str = 'bilinear', **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        assert len(self.in_channels) == len(self.in_index), (
            'in_channels and in_index need one entry per level')
        assert self.channels % 2 == 0, 'channels must be even'
        self.interpolate_mode = interpolate_mode
        self.convs = nn.ModuleList(
            ConvModule(c, self.channels, 1, norm_cfg=self.norm_cfg,
                       act_cfg=self.act_cfg) for c in self.in_channels)
        self.fusion_conv = ConvModule(
            self.channels * len(self.in_channels), self.channels // 2, 1,
            norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.align = FlowDualAlignment(self.channels // 2)
        self.project = MixFFN(
            embed_dims=self.channels, feedforward_channels=self.channels,
            act_cfg=dict(type='GELU'))

    def _decode(self, levels: List[torch.Tensor]) -> torch.Tensor:
        """One date's levels (finest first) -> (N, channels // 2, H0, W0)."""
        size = levels[0].shape[2:]
        outs = [
            resize(conv(x), size=size, mode=self.interpolate_mode,
                   align_corners=self.align_corners)
            for conv, x in zip(self.convs, levels)
        ]
        return self.fusion_conv(torch.cat(outs, dim=1))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            inputs (list[Tensor]): backbone levels, each
                (N, 2 * in_channels[i], H_i, W_i), date A first.

        Returns:
            Tensor: logits (N, num_classes, H_0, W_0) at the finest level.
        """
        levels = self._transform_inputs(inputs)
        # Both dates through the shared decoder as one batch of 2N.
        both = self._decode([torch.cat(x.chunk(2, dim=1), dim=0)
                             for x in levels])
        x = self.align(*both.chunk(2, dim=0))
        n, c, h, w = x.shape
        x = self.project(x.flatten(2).transpose(1, 2), (h, w))
        x = x.transpose(1, 2).reshape(n, c, h, w)
        return self.cls_seg(x)
