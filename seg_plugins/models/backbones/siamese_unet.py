from typing import List

import torch
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair
from .strided_conv_unet import StridedConvUNet


@MODELS.register_module()
class SiameseStridedUNet(StridedConvUNet):
    """The strided-convolution U-Net run on both dates with shared weights
    (encoder and decoder), for heads that label each date.

    Args:
        in_channels (int): Channels (bands) of ONE date; the input has
            ``2 * in_channels``, date A first (``ConcatCDInput``).
        **kwargs: :class:`StridedConvUNet` arguments.
    """

    def __init__(self, in_channels: int = 3, **kwargs):
        super().__init__(in_channels=in_channels, **kwargs)
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): the pair, shape (N, 2 * in_channels, H, W).

        Returns:
            list[Tensor]: the U-Net's maps, bottleneck first, finest last,
            each (N, 2 * C_i, H_i, W_i): date A on the first C_i channels.
        """
        x = torch.cat(split_pair(x, self.in_channels, type(self).__name__),
                      dim=0)
        return [torch.cat(f.chunk(2, dim=0), dim=1)
                for f in super().forward(x)]
