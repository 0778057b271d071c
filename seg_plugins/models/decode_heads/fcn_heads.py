import warnings
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

from ..utils.fcn_blocks import UpsampleFuse


@MODELS.register_module()
class SkipFCNHead(BaseDecodeHead):
    """FCN-32s / 16s / 8s head with skip fusion (Long et al. 2015, "Fully
    Convolutional Networks for Semantic Segmentation"), or the deconv+BN
    decoder of the tutorial "pytorch使用voc分割数据集训练FCN流程讲解".

    ``style='paper'``: score the coarsest map with a 1x1 conv (``conv_seg``,
    the paper's ``score_fr``), then ``skips`` times: upsample the scores x2
    with a learned transposed conv initialised to bilinear interpolation and
    add a zero-initialised 1x1 score of the next finer skip (pool4, then
    pool3). The head returns scores at stride 32 / 2**skips; the segmentor's
    bilinear resize to the input size is the paper's fixed final upsampling.

    ``style='deconv_bn'``: the tutorial's FCN8s decoder, one stage per entry
    of ``decoder_channels``: 3x3 stride-2 transposed conv -> act -> (+ skip for
    the first ``skips`` stages) -> norm, then the 1x1 classifier
    (``conv_seg``). With five stages it returns (about) input-size scores.

    Sizes not divisible by 32 are handled by cropping / padding each
    upsampled map to its skip (see :func:`align_to`).

    Inputs (``in_channels``/``in_index``) are ordered fine to coarse, as
    backbones return them: ``[pool3, pool4, top]`` for ``skips=2``,
    ``[pool4, top]`` for 1, ``[top]`` for 0.

    Args:
        skips (int): Skip connections: 0 (FCN-32s), 1 (16s) or 2 (8s).
            Default: 2.
        style (str): 'paper' or 'deconv_bn' ('doc', its deprecated name,
            is accepted with a warning for one release). Default: 'paper'.
        decoder_channels (Sequence[int]): Output channels of the deconv+BN
            upsampling stages; ``channels`` must equal the last one and stage
            ``i < skips`` must match its skip's channels. Only for
            'deconv_bn'. Default: (512, 256, 128, 64, 32).
        upsample_kernel (int, optional): Kernel of the transposed convs.
            Default: 4 for 'paper' (bilinear x2), 3 for 'deconv_bn'.
        **kwargs: :class:`BaseDecodeHead` arguments. 'paper' needs
            ``channels == in_channels[-1]``; ``norm_cfg``/``act_cfg`` are
            used by 'deconv_bn' only.
    """

    STYLES = ('paper', 'deconv_bn')
    DEPRECATED_STYLES = {'doc': 'deconv_bn'}

    def __init__(self,
                 skips: int = 2,
                 style: str = 'paper',
                 decoder_channels: Sequence[int] = (512, 256, 128, 64, 32),
                 upsample_kernel: int = None,
                 **kwargs):
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(**kwargs)
        if style in self.DEPRECATED_STYLES:
            new = self.DEPRECATED_STYLES[style]
            warnings.warn(
                f'{type(self).__name__}(style={style!r}) is deprecated and '
                f'will be removed in the next release: use style={new!r} '
                '(same layers, same weights).', FutureWarning, stacklevel=2)
            style = new
        assert style in self.STYLES, (
            f'style must be one of {self.STYLES}, got {style!r}')
        assert self.input_transform == 'multiple_select', (
            f'{type(self).__name__} takes a list of maps: input_transform '
            f"must be 'multiple_select', got {self.input_transform!r}")
        assert skips in (0, 1, 2), f'skips must be 0, 1 or 2, got {skips}'
        assert len(self.in_channels) == skips + 1, (
            f'skips={skips} needs {skips + 1} inputs (fine to coarse), got '
            f'in_channels={self.in_channels}')
        self.skips = skips
        self.style = style
        # Skip channels in the order they are fused: pool4, then pool3.
        skip_channels = list(self.in_channels[-2::-1])
        if style == 'paper':
            assert self.channels == self.in_channels[-1], (
                "style='paper' scores the coarsest input directly: channels "
                f'must be in_channels[-1]={self.in_channels[-1]}, got '
                f'{self.channels}')
            stages = [
                dict(in_channels=self.out_channels,
                     out_channels=self.out_channels,
                     skip_channels=c,
                     lateral_conv=True,
                     bilinear_init=True,
                     bias=False) for c in skip_channels
            ]
            kernel = upsample_kernel or 4
        else:
            decoder_channels = list(decoder_channels)
            assert len(decoder_channels) >= skips, (
                f'{skips} skips need at least {skips} decoder stages, got '
                f'decoder_channels={decoder_channels}')
            assert self.channels == decoder_channels[-1], (
                f"style='deconv_bn' classifies the last decoder stage: "
                f'channels must be {decoder_channels[-1]}, got '
                f'{self.channels}')
            ins = [self.in_channels[-1]] + decoder_channels[:-1]
            skip_channels += [None] * (len(decoder_channels) - skips)
            stages = [
                dict(in_channels=c_in,
                     out_channels=c_out,
                     skip_channels=c_skip,
                     lateral_conv=False,
                     act_cfg=self.act_cfg,
                     norm_cfg=self.norm_cfg)
                for c_in, c_out, c_skip in zip(ins, decoder_channels,
                                               skip_channels)
            ]
            kernel = upsample_kernel or 3
        self.stages = nn.ModuleList(
            UpsampleFuse(kernel_size=kernel, **cfg) for cfg in stages)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            inputs (list[Tensor]): backbone maps; the selected ones are
                (N, C_i, H / s_i, W / s_i), fine to coarse, with
                s = (8, 16, 32) for ``skips=2``.

        Returns:
            Tensor: scores (N, num_classes, H / s, W / s) with s = 32 /
            2**skips for 'paper', s = 32 / 2**len(decoder_channels) for
            'deconv_bn' (up to the rounding of the pools).
        """
        feats = self._transform_inputs(inputs)
        x, skips = feats[-1], feats[-2::-1]
        if self.style == 'paper':
            x = self.cls_seg(x)
        for i, stage in enumerate(self.stages):
            x = stage(x, skips[i] if i < self.skips else None)
        if self.style == 'deconv_bn':
            x = self.cls_seg(x)
        return x
