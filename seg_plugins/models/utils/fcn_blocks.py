"""Pieces shared by both decoders of :class:`SkipFCNHead`.

The paper's FCN-16s/8s (Long et al. 2015) and the deconv+BN decoder of the
tutorial "pytorch使用voc分割数据集训练FCN流程讲解" are the same loop: upsample
x2 with a transposed conv, add a (projected) skip from the backbone,
optionally normalise. They differ only in the settings of
:class:`UpsampleFuse`.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weights of a channel-wise bilinear upsampling transposed conv.

    Args:
        channels (int): Input = output channels; channel ``i`` only feeds
            output ``i``.
        kernel_size (int): Kernel size, ``2 * factor - factor % 2`` for an
            upsampling ``factor`` (4 for x2).

    Returns:
        Tensor: shape (channels, channels, kernel_size, kernel_size).
    """
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float32)
    filt1d = 1 - (og - center).abs() / factor
    filt = filt1d[:, None] * filt1d[None, :]
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    weight[range(channels), range(channels)] = filt
    return weight


def align_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Crop or replicate-pad ``x`` at its bottom/right to spatial ``size``.

    Max-pools round down, so a map upsampled x2 can be one row/column short
    of (or, with ceil-mode pools, longer than) the skip it is added to. The
    missing row/column is the last one, hence bottom/right.

    Args:
        x (Tensor): shape (N, C, h, w).
        size (Sequence[int]): target (H, W).

    Returns:
        Tensor: shape (N, C, H, W).
    """
    h, w = size
    x = x[..., :h, :w]
    pad_h, pad_w = h - x.shape[-2], w - x.shape[-1]
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
    return x


class UpsampleFuse(nn.Module):
    """x2 transposed conv -> [act] -> [+ lateral(skip)] -> [norm].

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel of the transposed conv; padding and output
            padding are chosen so the output is exactly twice the input.
        skip_channels (int, optional): Channels of the skip added after
            upsampling; None for a stage without skip.
        lateral_conv (bool): Project the skip with a zero-initialised 1x1
            conv (the paper's ``score_pool4``/``score_pool3``: the net starts
            from its unfused predictions). If False, the skip is added as is
            and must have ``out_channels`` channels (the tutorial).
        bilinear_init (bool): Initialise the transposed conv as bilinear
            interpolation (needs ``in_channels == out_channels``); it is
            still learned, as in the paper (the reference Caffe nets fix it).
        bias (bool): Bias of the transposed conv.
        act_cfg (dict, optional): Activation after upsampling.
        norm_cfg (dict, optional): Norm after the sum.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 skip_channels: Optional[int] = None,
                 lateral_conv: bool = True,
                 bilinear_init: bool = False,
                 bias: bool = True,
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        assert kernel_size >= 2, f'kernel_size must be >= 2, got {kernel_size}'
        padding = (kernel_size - 1) // 2
        self.upsample = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size, stride=2, padding=padding,
            output_padding=2 + 2 * padding - kernel_size, bias=bias)
        if bilinear_init:
            assert in_channels == out_channels, (
                'bilinear_init needs in_channels == out_channels, got '
                f'{in_channels} -> {out_channels}')
            with torch.no_grad():
                self.upsample.weight.copy_(
                    bilinear_kernel(out_channels, kernel_size))
                if bias:
                    self.upsample.bias.zero_()
        self.act = build_activation_layer(act_cfg) if act_cfg else None
        self.lateral = None
        if skip_channels is not None and lateral_conv:
            self.lateral = nn.Conv2d(skip_channels, out_channels, 1)
            nn.init.zeros_(self.lateral.weight)
            nn.init.zeros_(self.lateral.bias)
        elif skip_channels is not None:
            assert skip_channels == out_channels, (
                f'a skip added without lateral conv must have out_channels='
                f'{out_channels} channels, got {skip_channels}')
        self.norm = build_norm_layer(norm_cfg, out_channels)[1] \
            if norm_cfg else None

    def forward(self,
                x: torch.Tensor,
                skip: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, in_channels, h, w).
            skip (Tensor, optional): shape (N, skip_channels, H, W) with
                H, W within one pixel of 2h, 2w.

        Returns:
            Tensor: (N, out_channels, H, W) with a skip, else (N,
            out_channels, 2h, 2w).
        """
        x = self.upsample(x)
        if self.act is not None:
            x = self.act(x)
        if skip is not None:
            if self.lateral is not None:
                skip = self.lateral(skip)
            x = align_to(x, skip.shape[-2:]) + skip
        if self.norm is not None:
            x = self.norm(x)
        return x
