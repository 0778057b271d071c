from typing import Optional, Sequence

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor


def scd_probabilities(logits: Tensor, num_classes: int) -> Tensor:
    """Semantic change logits -> probabilities, channel axis -3.

    Args:
        logits (Tensor): shape (..., 2K - 1, H, W): date A's K - 1 class
            logits, date B's, then the change logit (K = ``num_classes``,
            no change included).
        num_classes (int): K.

    Returns:
        Tensor: same shape: each date's softmax over its K - 1 classes,
        then the change sigmoid.
    """
    k = num_classes - 1
    sem_a, sem_b, change = logits.split([k, k, 1], dim=-3)
    return torch.cat((sem_a.softmax(-3), sem_b.softmax(-3), change.sigmoid()),
                     dim=-3)


def scd_logits(probs: Tensor, num_classes: int, eps: float = 1e-7) -> Tensor:
    """Inverse of :func:`scd_probabilities`: log p per date (its softmax is
    p again) and logit p for change, p clamped to [eps, 1 - eps].

    Args:
        probs (Tensor): shape (..., 2K - 1, H, W).
        num_classes (int): K.
    """
    k = num_classes - 1
    probs = probs.clamp(eps, 1 - eps)
    sem, change = probs.split([2 * k, 1], dim=-3)
    return torch.cat((sem.log(), change.log() - (-change).log1p()), dim=-3)


def scd_maps(logits: Tensor, num_classes: int, threshold: float) -> Tensor:
    """The change, from-class and to-class maps of semantic change logits.

    Args:
        logits (Tensor): shape (..., 2K - 1, H, W) in the layout of
            :func:`scd_probabilities`.
        num_classes (int): K.
        threshold (float): change probability threshold.

    Returns:
        Tensor: long, shape (..., 3, H, W): change {0, 1}, then per date 0
        where no change is predicted, else 1 + the argmax of its classes.
    """
    k = num_classes - 1
    changed = logits[..., -1:, :, :].sigmoid() > threshold
    maps = [changed.long()]
    for i in range(2):
        cls = logits[..., i * k:(i + 1) * k, :, :].argmax(-3, keepdim=True)
        maps.append(torch.where(changed, cls + 1, 0))
    return torch.cat(maps, dim=-3)


def scd_predictions(data_samples: Sequence[SegDataSample], num_classes: int,
                    threshold: float) -> None:
    """Set ``pred_sem_seg`` (change), ``pred_sem_seg_from`` and
    ``pred_sem_seg_to``, each (1, H, W), of each sample from its
    ``seg_logits`` (2K - 1, H, W) with :func:`scd_maps`."""
    for sample in data_samples:
        maps = scd_maps(sample.seg_logits.data.float(), num_classes,
                        threshold)
        for i, suffix in enumerate(('', '_from', '_to')):
            sample.set_data({
                f'pred_sem_seg{suffix}':
                type(sample.seg_logits)(data=maps[i:i + 1])
            })


@MODELS.register_module()
class SCDEncoderDecoder(EncoderDecoder):
    """mmseg's ``EncoderDecoder`` for semantic change: the head's logits
    (date A classes, date B classes, change) become ``pred_sem_seg``
    (change {0, 1}) and ``pred_sem_seg_from``/``pred_sem_seg_to`` (0 where
    no change is predicted, else 1 + the argmax of that date's classes).

    Args:
        threshold (float): change probability threshold. Default: 0.5.
        **kwargs: ``EncoderDecoder`` arguments; ``decode_head`` an
            :class:`SCDHead`.
    """

    def __init__(self, threshold: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.threshold = threshold
        # K, no change included; read by the TTA model and the export.
        self.num_scd_classes = self.decode_head.num_scd_classes
        # Slide inference allocates this many logit channels.
        self.out_channels = self.decode_head.out_channels_total

    def postprocess_result(self, seg_logits: torch.Tensor,
                           data_samples: Optional[list] = None) -> list:
        """Upstream's crop/resize/unflip, then the three maps."""
        data_samples = super().postprocess_result(seg_logits, data_samples)
        scd_predictions(data_samples, self.num_scd_classes, self.threshold)
        return data_samples
