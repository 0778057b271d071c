import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from mmseg.registry import METRICS


def confusion_counts(pred: torch.Tensor, gt: torch.Tensor) -> np.ndarray:
    """Counts of one map pair.

    Args:
        pred (Tensor): bool 'changed' predictions of valid pixels, shape (P,).
        gt (Tensor): bool 'changed' labels of the same pixels, shape (P,).

    Returns:
        np.ndarray: int64 [tp, fp, fn, tn].
    """
    tp = int((pred & gt).sum())
    fp = int((pred & ~gt).sum())
    fn = int((~pred & gt).sum())
    return np.array([tp, fp, fn, gt.numel() - tp - fp - fn], dtype=np.int64)


def change_scores(counts: np.ndarray) -> Dict[str, float]:
    """Precision, recall, F1, IoU of the change class, overall accuracy and
    Cohen's kappa from [tp, fp, fn, tn] (fractions; 0 where undefined)."""
    tp, fp, fn, tn = (float(c) for c in counts)
    n = tp + fp + fn + tn

    def div(a, b):
        return a / b if b else 0.0

    precision, recall = div(tp, tp + fp), div(tp, tp + fn)
    oa = div(tp + tn, n)
    pe = div((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn), n * n)
    return OrderedDict(
        Precision=precision,
        Recall=recall,
        F1=div(2 * tp, 2 * tp + fp + fn),
        IoU=div(tp, tp + fp + fn),
        OA=oa,
        Kappa=div(oa - pe, 1 - pe))


@METRICS.register_module()
class ChangeMetric(BaseMetric):
    """Binary change-detection metrics from confusion counts over a split.

    Counts are summed over every pixel of the split (and over processes
    when distributed) before any ratio is taken, so the scores do not depend
    on the batch size. Reported in percent, like mmseg's ``IoUMetric``:
    ``Precision``, ``Recall``, ``F1``, ``IoU`` (change class), ``OA``,
    ``Kappa``.

    Works with a 1-channel head (``pred_sem_seg`` {0,1}, ``seg_logits`` the
    probability) and with a 2-class softmax head (class 1 = changed).

    Args:
        ignore_index (int): Label value left out. Default: 255.
        thresholds (Sequence[float], optional): If given, also sweep these
            probability thresholds and report ``best_F1`` and
            ``best_threshold`` (uses ``seg_logits``). Default: None.
        output_dir (str, optional): Also write each predicted change map
            there as a 0/255 PNG named after its image (what
            ``tools/test.py --out DIR`` sets, as for mmseg's ``IoUMetric``).
            Default: None.
        keep_results (bool): Accepted for upstream's ``tools/test.py
            --out``, which sets it on every evaluator; unused.
        collect_device (str): 'cpu' or 'gpu'. Default: 'cpu'.
        prefix (str, optional): Prefix of the metric names. Default: None.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 thresholds: Optional[Sequence[float]] = None,
                 output_dir: Optional[str] = None,
                 keep_results: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        if output_dir:
            mkdir_or_exist(output_dir)
        self.thresholds = None if thresholds is None else [
            float(t) for t in thresholds
        ]

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'].squeeze(0)
            if self.output_dir:
                name = osp.splitext(osp.basename(sample['img_path']))[0]
                cv2.imwrite(osp.join(self.output_dir, f'{name}.png'),
                            (pred.cpu().numpy() > 0).astype(np.uint8) * 255)
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
            valid = gt != self.ignore_index
            gt_changed = gt[valid] == 1
            counts = confusion_counts(pred[valid] == 1, gt_changed)
            sweep = None
            if self.thresholds is not None:
                prob = self._change_probability(sample['seg_logits']['data'])
                prob = prob[valid]
                sweep = np.stack([
                    confusion_counts(prob > t, gt_changed)
                    for t in self.thresholds
                ])
            self.results.append((counts, sweep))

    @staticmethod
    def _change_probability(seg_logits: torch.Tensor) -> torch.Tensor:
        """(1, H, W) probabilities, or (2, H, W) logits -> (H, W)."""
        if seg_logits.shape[0] == 1:
            return seg_logits[0]
        return seg_logits.softmax(dim=0)[1]

    def compute_metrics(self, results: list) -> Dict[str, float]:
        counts = np.sum([r[0] for r in results], axis=0)
        scores = change_scores(counts)
        metrics = OrderedDict((k, round(v * 100, 2))
                              for k, v in scores.items())
        if self.thresholds is not None:
            sweep = np.sum([r[1] for r in results], axis=0)
            f1s = [change_scores(c)['F1'] for c in sweep]
            best = int(np.argmax(f1s))
            metrics['best_F1'] = round(f1s[best] * 100, 2)
            metrics['best_threshold'] = self.thresholds[best]
        tp, fp, fn, tn = counts.tolist()
        print_log(
            f'change pixels: tp={tp} fp={fp} fn={fn} tn={tn}; ' +
            ', '.join(f'{k}={v}' for k, v in metrics.items()),
            logger=MMLogger.get_current_instance())
        return metrics
