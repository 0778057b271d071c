"""TinyCDv2: the second version of TinyCD (Codegoni, Lombardi and Ferrari,
2022, "TINYCD: A (Not So) Deep Learning Model For Change Detection"), in
the form open-cd ships (TinyNet backbone, TinyFPN neck, TinyHead).

The two dates share a stride-2 stem and a few MobileNetV2 blocks whose
channels are gated by their difference; the pair is then fused early into
one stream (MobileNetV2 stages, each closed by a strip-conv global
attention), decoded by a light FPN and gated once more by the early
difference.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import (
    InvertedResidual,
    LayerNorm2d,
    make_divisible,
    resize,
)
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair

# arch: widen factor, blocks of the pair's MobileNetV2 stack, blocks per
# fused stage.
ARCHS = {
    's': dict(widen_factor=0.5, pair_blocks=2, stage_blocks=(2, 2, 3, 1)),
    'b': dict(widen_factor=1.0, pair_blocks=2, stage_blocks=(2, 2, 3, 1)),
    'l': dict(widen_factor=1.2, pair_blocks=4, stage_blocks=(2, 2, 6, 1)),
}
STAGE_CHANNELS = (16, 24, 32, 48)
STAGE_EXPANSIONS = (4, 6, 6, 6)


class DifferenceGate(nn.Module):
    """Channel gates for each date from their absolute difference.

    g = MLP(mean_{H,W} |x_A - x_B|) gives 2C logits, C per date; each date
    becomes x * sigmoid(g) + x.

    Args:
        channels (int): C.
        norm_cfg (dict): Norm of the MLP's hidden layer.
    """

    def __init__(self, channels: int, norm_cfg: dict):
        super().__init__()
        hidden = max(channels // 16, 8)
        self.reduce = ConvModule(channels, hidden, 1, bias=False,
                                 norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))
        self.select = nn.Conv2d(hidden, 2 * channels, 1, bias=False)

    def forward(self, x_a: torch.Tensor,
                x_b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both (N, C, H, W) -> both gated, (N, C, H, W)."""
        diff = (x_a - x_b).abs().mean(dim=(2, 3), keepdim=True)
        gate_a, gate_b = self.select(self.reduce(diff)).chunk(2, dim=1)
        return x_a * gate_a.sigmoid() + x_a, x_b * gate_b.sigmoid() + x_b


class PairInvertedResidual(nn.Module):
    """MobileNetV2's block (Sandler et al., 2018) run on both dates with
    shared weights, their hidden maps gated by :class:`DifferenceGate`
    between the depthwise conv and the linear projection; shape kept, with
    a residual.

    Args:
        channels (int): C of each date.
        expand_ratio (int): Hidden width / C.
        norm_cfg (dict): Norm config.
        act_cfg (dict): Activation of the expansion and depthwise convs.
    """

    def __init__(self, channels: int, expand_ratio: int, norm_cfg: dict,
                 act_cfg: dict):
        super().__init__()
        hidden = int(round(channels * expand_ratio))
        self.expand = nn.Sequential(
            ConvModule(channels, hidden, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(hidden, hidden, 3, padding=1, groups=hidden,
                       norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.gate = DifferenceGate(hidden, norm_cfg)
        self.project = ConvModule(hidden, channels, 1, norm_cfg=norm_cfg,
                                  act_cfg=None)

    def forward(self, pair: Tuple[torch.Tensor, torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both dates (N, C, H, W) -> both (N, C, H, W)."""
        x_a, x_b = pair
        h_a, h_b = self.gate(self.expand(x_a), self.expand(x_b))
        return x_a + self.project(h_a), x_b + self.project(h_b)


class StripGlobalAttention(nn.Module):
    """A large-kernel global context made of 1 x k and k x 1 depthwise strip
    convs, multiplied into a value projection; the result is projected,
    layer-normalised and added back with a learned per-channel scale
    (initially 1e-6, so a new stage starts as the identity).

    Args:
        channels (int): C.
        kernel_size (int): k (odd).
    """

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        assert kernel_size % 2 == 1, f'kernel_size must be odd: {kernel_size}'
        pad = kernel_size // 2
        self.context = nn.Sequential(
            nn.Conv2d(channels, channels, 1),
            nn.Conv2d(channels, channels, (1, kernel_size),
                      padding=(0, pad), groups=channels),
            nn.Conv2d(channels, channels, (kernel_size, 1),
                      padding=(pad, 0), groups=channels))
        self.value = nn.Conv2d(channels, channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.norm = LayerNorm2d(channels, eps=1e-6)
        self.layer_scale = nn.Parameter(torch.full((channels, ), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        y = self.norm(self.proj(self.context(x) * self.value(x)))
        return x + self.layer_scale.view(1, -1, 1, 1) * y


@MODELS.register_module()
class TinyCDv2(BaseModule):
    """TinyCDv2 encoder: the pair's shared stem and difference-gated blocks,
    an early fusion, then four fused MobileNetV2 stages.

    Args:
        in_channels (int): Channels of ONE date (``model.backbone.
            in_channels``); the input has ``2 * in_channels``.
        arch (str): 's', 'b' or 'l' (width, depth; see ``ARCHS``).
        strip_kernel_sizes (Sequence[int]): Strip length of each stage's
            global attention. Default: (41, 31, 21, 11).
        norm_cfg (dict): Norm config. Default: BN.
        act_cfg (dict): Activation. Default: ReLU6.
        init_cfg (dict | list[dict], optional): Default: Kaiming convs, unit
            batch norms.

    Returns from forward: the early pair map and the four stages' maps.
    """

    def __init__(self,
                 in_channels: int = 3,
                 arch: str = 'b',
                 strip_kernel_sizes: Sequence[int] = (41, 31, 21, 11),
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU6'),
                 init_cfg=[
                     dict(type='Kaiming', layer='Conv2d'),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(init_cfg)
        assert arch in ARCHS, f'arch must be in {tuple(ARCHS)}, got {arch!r}'
        setting = ARCHS[arch]
        self.in_channels = in_channels
        self.arch = arch
        width = setting['widen_factor']
        stem = make_divisible(16 * width, 8)
        common = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stem = ConvModule(in_channels, stem, 3, 2, padding=1, **common)
        self.pair_blocks = nn.Sequential(*[
            PairInvertedResidual(stem, 4, **common)
            for _ in range(setting['pair_blocks'])
        ])
        # Depthwise on the stacked dates, then each output channel from
        # the same channel of both dates (groups=C).
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * stem, 2 * stem, 3, padding=1, groups=2 * stem),
            LayerNorm2d(2 * stem, eps=1e-6),
            nn.GELU(),
            nn.Conv2d(2 * stem, stem, 3, padding=1, groups=stem))
        self.stages = nn.ModuleList()
        channels = [2 * stem]
        c_in = stem
        for i, (base, ratio, blocks) in enumerate(zip(
                STAGE_CHANNELS, STAGE_EXPANSIONS, setting['stage_blocks'])):
            c_out = make_divisible(base * width, 8)
            layers = [
                InvertedResidual(c_in if k == 0 else c_out, c_out,
                                 2 if k == 0 and i > 0 else 1, ratio,
                                 **common) for k in range(blocks)
            ]
            layers.append(StripGlobalAttention(c_out, strip_kernel_sizes[i]))
            self.stages.append(nn.Sequential(*layers))
            channels.append(c_out)
            c_in = c_out
        self.out_channels = tuple(channels)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, 2 * in_channels, H, W), H and W multiples
                of 16.

        Returns:
            list[Tensor]: the pair after its blocks, (N, 2 * C0, H/2, W/2)
            (dates stacked), then the stages at 1/2, 1/4, 1/8, 1/16 with
            ``out_channels[1:]`` channels.
        """
        img_a, img_b = split_pair(x, self.in_channels, type(self).__name__)
        n = x.shape[0]
        stems = self.stem(torch.cat((img_a, img_b)))  # one pass, both dates
        x_a, x_b = stems[:n], stems[n:]
        y_a, y_b = self.pair_blocks((x_a, x_b))
        pair = torch.cat((y_a + x_a, y_b + x_b), dim=1)
        outs = [pair]
        y = self.fuse(pair)
        for stage in self.stages:
            y = stage(y)
            outs.append(y)
        return outs


@MODELS.register_module()
class TinyCDv2Head(BaseDecodeHead):
    """TinyCDv2's decoder: an FPN over the four stages, the levels summed
    at 1/2, gated by the early pair's difference, then classified.

    FPN: 1x1 laterals to ``channels``, a top-down sum (nearest), and an
    expansion-free MobileNetV2 block (mmseg's ``InvertedResidual``) on each
    level. Each level is
    then a 1x1 ConvModule, bilinearly resized to the finest and summed:
    s. The early pair's |A - B| (1x1 conv) gates it: s * sigmoid(d) + s.

    Args:
        in_channels (Sequence[int]): The backbone's ``out_channels``: the
            pair map (2 * C0) first, then the four stages.
        channels (int): Width of the FPN and of the classifier's input.
        fpn_act_cfg (dict): Activation inside the FPN's blocks.
            Default: ReLU6.
        **kwargs: ``BaseDecodeHead``'s (num_classes, norm_cfg, loss, ...).
    """

    def __init__(self, in_channels: Sequence[int], channels: int,
                 fpn_act_cfg: dict = dict(type='ReLU6'), **kwargs):
        super().__init__(
            in_channels=list(in_channels), channels=channels,
            in_index=list(range(len(in_channels))),
            input_transform='multiple_select', **kwargs)
        assert in_channels[0] % 2 == 0, (
            f'in_channels[0] is the stacked pair (2 x C0): {in_channels[0]}')
        levels = self.in_channels[1:]
        self.laterals = nn.ModuleList(
            nn.Conv2d(c, channels, 1) for c in levels)
        self.fpn_blocks = nn.ModuleList(
            InvertedResidual(channels, channels, 1, 1,
                             norm_cfg=self.norm_cfg, act_cfg=fpn_act_cfg)
            for _ in levels)
        self.level_convs = nn.ModuleList(
            ConvModule(channels, channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            for _ in levels)
        self.diff_gate = nn.Conv2d(self.in_channels[0] // 2, channels, 1)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Args:
            inputs (Sequence[Tensor]): the backbone's five maps.

        Returns:
            Tensor: logits (N, num_classes, H/2, W/2).
        """
        # Channels are fixed in a traced graph: checked when not tracing.
        got = [] if torch.jit.is_tracing() else [x.shape[1] for x in inputs]
        if got and got != list(self.in_channels):
            raise ValueError(
                f'{type(self).__name__}: model.decode_head.in_channels='
                f'{list(self.in_channels)} must be the backbone\'s '
                f'out_channels, got maps with {got} channels')
        pair, *levels = self._transform_inputs(inputs)
        lat = [conv(x) for conv, x in zip(self.laterals, levels)]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + resize(lat[i], size=lat[i - 1].shape[2:],
                                             mode='nearest')
        feats = [conv(block(x)) for block, conv, x in zip(
            self.fpn_blocks, self.level_convs, lat)]
        out = feats[0]
        for feat in feats[1:]:
            out = out + resize(feat, size=out.shape[2:], mode='bilinear',
                               align_corners=self.align_corners)
        pair_a, pair_b = pair.chunk(2, dim=1)
        # The pair and the first stage are both at the stem's stride.
        gate = self.diff_gate((pair_a - pair_b).abs())
        out = out * gate.sigmoid() + out
        return self.cls_seg(out)
