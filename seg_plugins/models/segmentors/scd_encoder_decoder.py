from typing import Optional

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS


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
        # Slide inference allocates this many logit channels.
        self.out_channels = self.decode_head.out_channels_total

    def postprocess_result(self, seg_logits: torch.Tensor,
                           data_samples: Optional[list] = None) -> list:
        """Upstream's crop/resize/unflip, then the three maps."""
        data_samples = super().postprocess_result(seg_logits, data_samples)
        k = self.decode_head.num_scd_classes - 1
        for sample in data_samples:
            logits = sample.seg_logits.data.float()  # (2K-1, H, W)
            changed = logits[-1:].sigmoid() > self.threshold
            maps = {'': changed.long()}
            for i, date in enumerate(('from', 'to')):
                cls = logits[i * k:(i + 1) * k].argmax(0, keepdim=True) + 1
                maps[f'_{date}'] = torch.where(changed, cls, 0)
            for suffix, data in maps.items():
                sample.set_data(
                    {f'pred_sem_seg{suffix}': type(sample.seg_logits)(
                        data=data)})
        return data_samples
