"""Siamese ResNetV1c with optional feature exchange between the dates.

The backbone of BIT (Chen et al. 2021) and ChangerEx (Fang et al. 2023):
mmseg's ``ResNetV1c`` with one set of weights run on both dates, the
features of each output stage stacked as (date A, date B) on channels.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmseg.models.backbones import ResNetV1c
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair
from ..utils.resnet_weights import load_resnet_checkpoint

EXCHANGES = ('none', 'spatial', 'channel')
# Axis of the (N, C, H, W) features along which each exchange alternates.
EXCHANGE_AXES = dict(spatial=3, channel=1)


def exchange(a: torch.Tensor, b: torch.Tensor, period: int,
             axis: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Swap every ``period``-th slice along ``axis`` between the dates.

    ``torch.where`` on a broadcast mask, not masked assignment, so the
    exported graph keeps its shapes.

    Args:
        a (Tensor): date A, shape (N, C, H, W).
        b (Tensor): date B, shape (N, C, H, W).
        period (int): slices 0, period, 2 * period, ... are swapped.
        axis (int): 3 swaps columns (spatial exchange), 1 channels
            (channel exchange).

    Returns:
        tuple[Tensor, Tensor]: the exchanged (A, B), shapes unchanged.
    """
    index = torch.arange(a.shape[axis], device=a.device)
    shape = [1, 1, 1, 1]
    shape[axis] = -1
    mask = (index % period == 0).view(shape)
    return torch.where(mask, b, a), torch.where(mask, a, b)


@MODELS.register_module()
class SiameseResNetV1c(ResNetV1c):
    """mmseg's ResNetV1c run on both dates with shared weights.

    After each stage the two dates' features may be exchanged (Fang et al.
    2023, "Changer: Feature Interaction is What You Need for Change
    Detection"): ``'spatial'`` swaps every ``1 / exchange_ratio``-th
    column, ``'channel'`` every ``1 / exchange_ratio``-th channel;
    exchanges have no parameters. The dates run as one batch of 2N.

    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads ImageNet
    ResNet checkpoints of mmseg, mmpretrain, timm or torchvision layout
    (``models/utils/resnet_weights.py``) after the default initialisation,
    reporting what did not load by name.

    Args:
        in_channels (int): Channels (bands) of ONE date; the input has
            ``2 * in_channels``, date A first (``ConcatCDInput``).
        exchanges (Sequence[str], optional): Per stage, 'none', 'spatial'
            or 'channel'. Default: no exchange.
        exchange_ratio (float): Fraction of columns / channels exchanged;
            ``1 / exchange_ratio`` must be an integer. Default: 0.5.
        init_cfg (dict, optional): None (Kaiming, as mmseg's ResNet) or
            ``dict(type='Pretrained', checkpoint=path_or_url)``.
        **kwargs: mmseg ``ResNet`` arguments (depth, num_stages, strides,
            dilations, out_indices, norm_cfg, ...).
    """

    def __init__(self,
                 in_channels: int = 3,
                 exchanges: Optional[Sequence[str]] = None,
                 exchange_ratio: float = 0.5,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        pretrained = None
        if init_cfg is not None:
            assert isinstance(init_cfg, dict) and init_cfg.get(
                'type') == 'Pretrained' and 'checkpoint' in init_cfg, (
                    "model.backbone.init_cfg: None or dict(type='Pretrained',"
                    f' checkpoint=...), got {init_cfg!r}')
            pretrained = dict(init_cfg)
        super().__init__(in_channels=in_channels, **kwargs)
        self.in_channels = in_channels
        self.pretrained_cfg = pretrained
        exchanges = tuple(exchanges or ('none', ) * self.num_stages)
        assert len(exchanges) == self.num_stages, (
            f'exchanges needs one entry per stage ({self.num_stages}), got '
            f'{exchanges}')
        assert all(e in EXCHANGES for e in exchanges), (
            f'exchanges must be in {EXCHANGES}, got {exchanges}')
        period = round(1 / exchange_ratio)
        assert abs(period * exchange_ratio - 1) < 1e-6, (
            f'1 / exchange_ratio must be an integer, got {exchange_ratio}')
        self.exchanges = exchanges
        self.exchange_period = period

    def init_weights(self):
        """Kaiming initialisation, then the pretrained weights if any."""
        super().init_weights()
        if self.pretrained_cfg is not None:
            load_resnet_checkpoint(
                self, self.pretrained_cfg['checkpoint'],
                map_location=self.pretrained_cfg.get('map_location', 'cpu'))

    def _exchange(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        policy = self.exchanges[stage]
        if policy == 'none':
            return x
        a, b = x.chunk(2, dim=0)
        return torch.cat(exchange(a, b, self.exchange_period,
                                  EXCHANGE_AXES[policy]), dim=0)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): the pair, shape (N, 2 * in_channels, H, W).

        Returns:
            list[Tensor]: per stage in ``out_indices``, (N, 2 * C_i, H_i, W_i):
            date A's features on the first C_i channels, date B's after.
        """
        x = torch.cat(split_pair(x, self.in_channels, type(self).__name__),
                      dim=0)
        x = self.maxpool(self.stem(x))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = self._exchange(getattr(self, name)(x), i)
            if i in self.out_indices:
                outs.append(torch.cat(x.chunk(2, dim=0), dim=1))
        return outs
