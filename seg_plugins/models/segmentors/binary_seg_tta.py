from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList


@MODELS.register_module()
class BinarySegTTAModel(SegTTAModel):
    """``SegTTAModel`` that also merges one-logit (binary) predictions.

    For a 1-channel head mmseg's segmentor stores the sigmoid *probability*
    in ``seg_logits``; mmseg 1.2.2's ``SegTTAModel`` applies the sigmoid a
    second time, so every merged probability is > 0.5 and, with the default
    threshold, every pixel comes out positive. Here the probabilities are
    averaged as they are. Multi-class heads are merged as upstream does.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Args:
            data_samples_list (list[list[SegDataSample]]): per image, the
                predictions of its augmented views (``seg_logits`` (1, H, W)
                probabilities, already flipped back).

        Returns:
            list[SegDataSample]: ``seg_logits`` the mean probability,
            ``pred_sem_seg`` it thresholded, (1, H, W) each.
        """
        if self.module.out_channels > 1:
            return super().merge_preds(data_samples_list)
        threshold = self.module.decode_head.threshold
        merged = []
        for samples in data_samples_list:
            prob = torch.stack([s.seg_logits.data for s in samples]).mean(0)
            out = SegDataSample(metainfo=samples[0].metainfo)
            out.seg_logits = PixelData(data=prob)
            out.pred_sem_seg = PixelData(data=(prob > threshold).to(prob))
            if 'gt_sem_seg' in samples[0]:
                out.gt_sem_seg = samples[0].gt_sem_seg
            merged.append(out)
        return merged
