from typing import List, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ..utils.strided_unet_blocks import (
    StridedUNetDecoder,
    StridedUNetEncoder,
    check_input_size,
)

FUSIONS = ('early', 'siam_concat', 'siam_diff')


def fuse(feat_a: torch.Tensor, feat_b: torch.Tensor,
         fusion: str) -> torch.Tensor:
    """Merge the two dates' features of one level.

    Args:
        feat_a (Tensor): shape (N, C, H, W).
        feat_b (Tensor): shape (N, C, H, W).
        fusion (str): 'siam_concat' -> (N, 2C, H, W); 'siam_diff' ->
            |feat_a - feat_b|, (N, C, H, W).
    """
    if fusion == 'siam_concat':
        return torch.cat((feat_a, feat_b), dim=1)
    return (feat_a - feat_b).abs()


@MODELS.register_module()
class ChangeUNet(BaseModule):
    """Bi-temporal change-detection U-Net built from the strided-conv U-Net
    blocks of :class:`StridedConvUNet`.

    One class for the three FC-* variants (Daudt et al., 2018):

    - ``early`` (FC-EF): the pair, concatenated on channels, enters one
      U-Net.
    - ``siam_concat`` (FC-Siam-conc): one encoder with shared weights runs
      on each date; every skip is the concatenation of both dates' features.
    - ``siam_diff`` (FC-Siam-diff): as above, skips are |f_A - f_B|.

    The deepest level is fused like the skips (the FC-Siam reference code
    decodes from the second date's deepest features), so swapping the dates
    leaves ``siam_diff`` unchanged.

    Args:
        in_channels (int): Channels of ONE image (C). Default: 3.
        num_images (int): Images per sample; the input has
            ``num_images * in_channels`` channels, dates in order (as
            ``ConcatCDInput`` stacks them). Siamese fusions need 2.
        fusion (str): 'early', 'siam_concat' or 'siam_diff'.
        base_channels (int): Channels of the first stage (16 in the FC-*
            papers, 64 for the U-Net of the tutorial "图像分割"). Default: 16.
        num_stages (int): Encoder stages. Default: 5.
        dropout_ratio (float): ``Dropout2d`` in every block (0.2 in the FC-*
            papers). Default: 0.2.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='LeakyReLU')``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 num_images: int = 2,
                 fusion: str = 'early',
                 base_channels: int = 16,
                 num_stages: int = 5,
                 dropout_ratio: float = 0.2,
                 padding_mode: str = 'reflect',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='LeakyReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        assert fusion in FUSIONS, f'fusion must be in {FUSIONS}: {fusion!r}'
        assert fusion == 'early' or num_images == 2, (
            f'{fusion} compares two images, got num_images={num_images}')
        self.in_channels = in_channels
        self.num_images = num_images
        self.fusion = fusion
        self.num_stages = num_stages
        self.padding_mode = padding_mode
        common = dict(dropout_ratio=dropout_ratio, padding_mode=padding_mode,
                      norm_cfg=norm_cfg, act_cfg=act_cfg)
        enc_in = in_channels * num_images if fusion == 'early' else in_channels
        self.encoder = StridedUNetEncoder(enc_in, base_channels,
                                          num_stages, **common)
        channels = list(self.encoder.channels)
        skips = channels[:-1]
        if fusion == 'siam_concat':
            skips = [2 * c for c in skips]
            channels[-1] *= 2
        self.decoder = StridedUNetDecoder(channels, skips, **common)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, num_images * in_channels, H, W).

        Returns:
            list[Tensor]: decoder maps, deepest first, finest
            (N, base_channels, H, W) last.
        """
        expected = self.in_channels * self.num_images
        if x.shape[1] != expected:
            raise ValueError(
                f'ChangeUNet expects {self.num_images} images x '
                f'{self.in_channels} channels = {expected}, got {x.shape[1]}')
        check_input_size(x, self.num_stages, type(self).__name__,
                         self.padding_mode)
        if self.fusion == 'early':
            feats = self.encoder(x)
        else:
            n, c = x.shape[0], self.in_channels
            # One pass of the shared encoder over both dates.
            both = self.encoder(torch.cat((x[:, :c], x[:, c:]), dim=0))
            feats = [fuse(f[:n], f[n:], self.fusion) for f in both]
        return self.decoder(feats[-1], feats[:-1])
