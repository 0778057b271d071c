"""LightCDNet (Xing et al., "LightCDNet: Lightweight Change Detection
Network Based on VHR Images", IEEE GRSL 2023).

Early fusion: a shared stem and a deep-supervised fusion module (DSFM)
merge the two dates at 1/2 resolution; a ShuffleNetV2 encoder with
criss-cross attention after each stage goes on from the fused map, and a
feature-pyramid decoder sums its levels at 1/2 resolution.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.necks import FPN
from mmseg.models.utils import LayerNorm2d, resize
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair
from ..utils.criss_cross_attention import ExportableCrissCrossAttention


def channel_shuffle(x: torch.Tensor, groups: int = 2) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups (Zhang et al.,
    "ShuffleNet", 2018).

    Args:
        x (Tensor): shape (N, C, H, W), C divisible by ``groups``.

    Returns:
        Tensor: shape (N, C, H, W).
    """
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(
        n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit (Ma et al., "ShuffleNet V2", 2018).

    Stride 1 keeps half of the channels and transforms the other half;
    stride 2 transforms all of them in two branches and halves H and W.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out (= C_in at stride 1).
        stride (int): 1 or 2.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 norm_cfg: dict, act_cfg: dict):
        super().__init__()
        assert stride in (1, 2), f'stride must be 1 or 2, got {stride}'
        assert stride == 2 or in_channels == out_channels, (
            'a stride-1 unit keeps its channels')
        self.stride = stride
        half = out_channels // 2
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        linear = dict(norm_cfg=norm_cfg, act_cfg=None)
        if stride == 2:
            self.branch1 = nn.Sequential(
                ConvModule(in_channels, in_channels, 3, 2, 1,
                           groups=in_channels, **linear),
                ConvModule(in_channels, half, 1, **conv))
        branch_in = in_channels if stride == 2 else half
        self.branch2 = nn.Sequential(
            ConvModule(branch_in, half, 1, **conv),
            ConvModule(half, half, 3, stride, 1, groups=half, **linear),
            ConvModule(half, half, 1, **conv))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, C_in, H, W).

        Returns:
            Tensor: shape (N, C_out, H / stride, W / stride).
        """
        if self.stride == 2:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        else:
            kept, moved = x.chunk(2, dim=1)
            out = torch.cat((kept, self.branch2(moved)), dim=1)
        return channel_shuffle(out, 2)


class TemporalAttention(nn.Module):
    """Channel attention over both dates at once: a squeeze-and-excitation
    MLP on the pooled pair reweights each date's channels (x * (1 + a)).

    Args:
        channels (int): C of one date.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, channels: int, norm_cfg: dict, act_cfg: dict):
        super().__init__()
        hidden = max(channels // 16, 8)
        self.mlp = nn.Sequential(
            ConvModule(2 * channels, hidden, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            nn.Conv2d(hidden, 2 * channels, 1, bias=False))

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor):
        """Args:
            x_a (Tensor): shape (N, C, H, W).
            x_b (Tensor): shape (N, C, H, W).

        Returns:
            tuple[Tensor, Tensor]: both reweighted, (N, C, H, W) each.
        """
        pair = torch.cat((x_a, x_b), dim=1)
        attn = self.mlp(pair.mean((2, 3), keepdim=True)).sigmoid()
        attn_a, attn_b = attn.chunk(2, dim=1)
        return x_a * attn_a + x_a, x_b * attn_b + x_b


class DeepSupervisedFusion(nn.Module):
    """The paper's DSFM: each date is refined by a residual stack of
    ShuffleNetV2 units at 4x width (weights shared by the dates), the
    dates are reweighted by :class:`TemporalAttention`, interleaved and
    merged by a 1x1 conv. Its output is what the auxiliary head
    supervises.

    Args:
        channels (int): C of one date and of the output.
        num_blocks (int): ShuffleNetV2 units in the refining stack.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, channels: int, num_blocks: int, norm_cfg: dict,
                 act_cfg: dict):
        super().__init__()
        wide = 4 * channels
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.refine = nn.Sequential(
            ConvModule(channels, wide, 1, **conv),
            *[ShuffleUnit(wide, wide, 1, norm_cfg, act_cfg)
              for _ in range(num_blocks)],
            ConvModule(wide, channels, 1, **conv))
        self.temporal_attn = TemporalAttention(channels, norm_cfg, act_cfg)
        self.merge = ConvModule(2 * channels, channels, 1, **conv)

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """Args:
            x_a (Tensor): shape (N, C, H, W).
            x_b (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: the fused map, (N, C, H, W).
        """
        n = x_a.shape[0]
        both = torch.cat((x_a, x_b), dim=0)
        both = both + self.refine(both)
        x_a, x_b = self.temporal_attn(both[:n], both[n:])
        return self.merge(channel_shuffle(torch.cat((x_a, x_b), dim=1)))


@MODELS.register_module()
class LightCDNet(BaseModule):
    """LightCDNet encoder: stem and DSFM on the pair, then ShuffleNetV2
    stages with criss-cross attention on the fused map.

    Both dates go through the shared stem and DSFM refinement in one batch
    (in training their BatchNorm statistics are shared).

    ``taps`` says where the stages' outputs are taken. 'stage' (default):
    after each stage's criss-cross attention, as the paper draws the
    encoder. 'open-cd': where open-cd's implementation takes them, after
    its layers 4, 12 and 16 counted over the stages' units and attention
    layers together (the first stage's last unit, the second stage's
    seventh of eight, the third stage's second of four), which leaves the
    third stage's last two units and attention without effect (they are
    skipped); for weights trained with open-cd. Same layers and
    parameters either way.

    Args:
        arch (str): 's', 'b' or 'l' (the paper's small, base and large):
            widths ``(24, 48, 96, 192)``, ``(24, 116, 232, 464)`` or
            ``(24, 176, 352, 704)`` and 4, 8 or 16 units in the DSFM.
            Default: 's'.
        in_channels (int): Bands of ONE date; the input stacks two dates.
            Default: 3.
        stage_blocks (Sequence[int]): ShuffleNetV2 units per stage (the
            first halves H and W). Default: (4, 8, 4).
        cca_recurrence (int): Passes of each stage's criss-cross
            attention. Default: 2.
        taps (str): 'stage' or 'open-cd' (see above). Default: 'stage'.
        norm_cfg (dict): Norm layer config. Default: BN.
        act_cfg (dict): Activation config. Default: ReLU.
        init_cfg (dict, optional): Initialisation config.
    """

    arch_settings = {
        's': dict(channels=(24, 48, 96, 192), fusion_blocks=4),
        'b': dict(channels=(24, 116, 232, 464), fusion_blocks=8),
        'l': dict(channels=(24, 176, 352, 704), fusion_blocks=16),
    }

    def __init__(self,
                 arch: str = 's',
                 in_channels: int = 3,
                 stage_blocks: Sequence[int] = (4, 8, 4),
                 cca_recurrence: int = 2,
                 taps: str = 'stage',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg)
        assert arch in self.arch_settings, (
            f'arch must be one of {list(self.arch_settings)}, got {arch!r}')
        setting = self.arch_settings[arch]
        channels = setting['channels']
        assert len(stage_blocks) == len(channels) - 1, (
            f'{len(channels) - 1} stages in arch {arch!r}, got '
            f'stage_blocks={stage_blocks}')
        self.in_channels = in_channels
        self.channels = channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 3, 2, 1, bias=False),
            LayerNorm2d(channels[0]), nn.GELU())
        self.fusion = DeepSupervisedFusion(
            channels[0], setting['fusion_blocks'], norm_cfg, act_cfg)
        assert taps in ('stage', 'open-cd'), (
            f"taps must be 'stage' or 'open-cd', got {taps!r}")
        # The stages' units and attention layers in one sequence, as the
        # layer indices of ``taps`` count them.
        self.layers = nn.ModuleList()
        ends = []
        for c_in, c_out, num in zip(channels[:-1], channels[1:],
                                    stage_blocks):
            self.layers.append(ShuffleUnit(c_in, c_out, 2, norm_cfg,
                                           act_cfg))
            self.layers.extend(
                ShuffleUnit(c_out, c_out, 1, norm_cfg, act_cfg)
                for _ in range(num - 1))
            self.layers.append(
                ExportableCrissCrossAttention(c_out, cca_recurrence))
            ends.append(len(self.layers) - 1)
        if taps == 'stage':
            self.taps = ends
        else:  # open-cd: cumsum of the unit counts, the first minus one
            self.taps = [sum(stage_blocks[:i + 1]) - 1
                         for i in range(len(stage_blocks))]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): the pair, shape (N, 2 * in_channels, H, W).

        Returns:
            list[Tensor]: the fused map (N, channels[0], H/2, W/2), then
            one map per stage, (N, channels[i], H/2^(i+1), W/2^(i+1)).
        """
        x_a, x_b = split_pair(x, self.in_channels, type(self).__name__)
        n = x_a.shape[0]
        both = self.stem(torch.cat((x_a, x_b), dim=0))
        out = self.fusion(both[:n], both[n:])
        outs = [out]
        for i, layer in enumerate(self.layers[:self.taps[-1] + 1]):
            out = layer(out)
            if i in self.taps:
                outs.append(out)
        return outs


@MODELS.register_module()
class LightCDHead(BaseDecodeHead):
    """LightCDNet's pyramid decoder: mmseg's ``FPN`` (1x1 laterals, 3x3
    outputs, no norm) over all levels, a 1x1 conv per level, the levels
    summed at the finest one's size, then the classifier.

    Args:
        in_channels (Sequence[int]): Channels of the backbone's maps, finest
            first.
        channels (int): Channels of the pyramid and of the classifier's
            input.
        **kwargs: The other arguments of ``BaseDecodeHead``;
            ``input_transform`` is 'multiple_select'.
    """

    def __init__(self, in_channels: Sequence[int], channels: int, **kwargs):
        kwargs.setdefault('in_index', list(range(len(in_channels))))
        super().__init__(
            in_channels, channels, input_transform='multiple_select',
            **kwargs)
        self.fpn = FPN(list(in_channels), channels, len(in_channels))
        self.scale_convs = nn.ModuleList(
            ConvModule(channels, channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            for _ in in_channels)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            inputs (list[Tensor]): the backbone's maps, finest first.

        Returns:
            Tensor: logits at the finest map's size,
            (N, num_classes, H/2, W/2) for LightCDNet.
        """
        levels = self.fpn(self._transform_inputs(inputs))
        out = self.scale_convs[0](levels[0])
        for conv, level in zip(self.scale_convs[1:], levels[1:]):
            out = out + resize(conv(level), size=out.shape[2:],
                               mode='bilinear',
                               align_corners=self.align_corners)
        return self.cls_seg(out)
