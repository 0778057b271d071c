import warnings
from typing import List, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ..utils.strided_unet_blocks import (
    StridedUNetDecoder,
    StridedUNetEncoder,
    check_input_size,
)


@MODELS.register_module()
class StridedConvUNet(BaseModule):
    """U-Net variant with strided-conv down-sampling, as an mmseg backbone.

    The encoder-decoder with skips is U-Net's (Ronneberger et al. 2015,
    "U-Net: Convolutional Networks for Biomedical Image Segmentation"); the
    variant is the one of the tutorial "图像分割": 3x3 stride-2 convs instead
    of max pooling, nearest up-sampling + 1x1 conv instead of transposed
    convs, reflect padding, ``Dropout2d`` and LeakyReLU in every block. With
    defaults it is that tutorial's ``UNet`` without its final ``out`` conv
    and sigmoid: those belong to the decode head here.

    Args:
        in_channels (int): Input channels (6 for a concatenated image pair).
            Default: 3.
        base_channels (int): Channels of the first stage. Default: 64.
        num_stages (int): Encoder stages; input H and W must be divisible by
            ``2 ** (num_stages - 1)``. Default: 5 (64-128-256-512-1024).
        dropout_ratio (float): ``Dropout2d`` in every ConvBlock. Default: 0.3.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        norm_cfg (dict): Norm layer config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='LeakyReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 5,
                 dropout_ratio: float = 0.3,
                 padding_mode: str = 'reflect',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='LeakyReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.num_stages = num_stages
        self.padding_mode = padding_mode
        common = dict(dropout_ratio=dropout_ratio, padding_mode=padding_mode,
                      norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.encoder = StridedUNetEncoder(in_channels, base_channels,
                                          num_stages, **common)
        channels = self.encoder.channels
        self.decoder = StridedUNetDecoder(channels, channels[:-1], **common)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, in_channels, H, W).

        Returns:
            list[Tensor]: ``num_stages`` maps, the bottleneck
            (N, base * 2**(S-1), H / 2**(S-1), W / 2**(S-1)) first and the
            finest (N, base, H, W) last.
        """
        check_input_size(x, self.num_stages, type(self).__name__,
                         self.padding_mode)
        feats = self.encoder(x)
        return self.decoder(feats[-1], feats[:-1])


@MODELS.register_module()
class SeedUNet(StridedConvUNet):
    """Deprecated name of :class:`StridedConvUNet`, kept for one release so
    configs written against it still build; warns when built."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            "type='SeedUNet' is deprecated and will be removed in the next "
            "release: use type='StridedConvUNet' (same arguments, same "
            'weights).', FutureWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
