from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList


@MODELS.register_module()
class BinarySegTTAModel(SegTTAModel):
    """``SegTTAModel`` that merges one-logit (binary) predictions correctly
    and keeps the merged scores for metrics.

    For a 1-channel head mmseg's segmentor stores the sigmoid *probability*
    in ``seg_logits``; mmseg 1.2.2's ``SegTTAModel`` applies the sigmoid a
    second time, so every merged probability is > 0.5 and, with the default
    threshold, every pixel comes out positive. Here the probabilities are
    averaged as they are. For multi-class heads the softmax probabilities
    are averaged as upstream, but upstream leaves the *last view's* logits
    in ``seg_logits``, so a metric reading them (``ChangeMetric``'s
    threshold sweep) sees one view; here ``seg_logits`` holds the log of the
    mean probability, whose softmax is that mean.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Args:
            data_samples_list (list[list[SegDataSample]]): per image, the
                predictions of its augmented views (``seg_logits`` (C, H, W),
                already flipped back).

        Returns:
            list[SegDataSample]: per image, the merge of :meth:`merge_views`
            with the first view's metainfo and ``gt_*`` label maps.
        """
        merged = []
        for samples in data_samples_list:
            out = SegDataSample(metainfo=samples[0].metainfo)
            for key in samples[0].keys():
                if key.startswith('gt_'):
                    out.set_field(samples[0].get(key), key)
            self.merge_views(
                out, torch.stack([s.seg_logits.data for s in samples]))
            merged.append(out)
        return merged

    def merge_views(self, out: SegDataSample, scores: torch.Tensor) -> None:
        """Set the merged ``seg_logits`` and prediction maps of ``out``.

        Args:
            out (SegDataSample): the merged sample, filled in place.
            scores (Tensor): the views' ``seg_logits``, shape (V, C, H, W):
                probabilities for C = 1, logits otherwise.

        ``seg_logits`` (C, H, W) becomes the mean probability (C = 1) or its
        log (C > 1); ``pred_sem_seg`` (1, H, W) it thresholded or its argmax.
        """
        if self.module.out_channels == 1:
            prob = scores.mean(0)
            logits = prob
            pred = prob > self.module.decode_head.threshold
        else:
            prob = scores.softmax(dim=1).mean(0)
            logits = prob.clamp_min(1e-12).log()
            pred = prob.argmax(dim=0, keepdim=True)
        out.seg_logits = PixelData(data=logits)
        out.pred_sem_seg = PixelData(data=pred.to(prob))
