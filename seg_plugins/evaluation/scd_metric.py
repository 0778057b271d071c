"""Semantic change detection metrics (SECOND: Yang et al., "Asymmetric
Siamese Networks for Semantic Change Detection in Aerial Images", 2021)."""
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from mmseg.registry import METRICS
from PIL import Image


def scd_confusion(pred: torch.Tensor, gt: torch.Tensor, num_classes: int,
                  ignore_index: int = 255) -> np.ndarray:
    """From-to confusion of one date's map.

    Args:
        pred (Tensor): predicted classes, 0 = no change, shape (H, W).
        gt (Tensor): label classes, same shape; ``ignore_index`` left out.
        num_classes (int): classes including no change (SECOND: 7).
        ignore_index (int): label value left out. Default: 255.

    Returns:
        np.ndarray: int64 (num_classes, num_classes), rows = prediction,
        columns = label (the orientation of SECOND's evaluation code).
    """
    valid = gt != ignore_index
    p = pred[valid].long().flatten()
    g = gt[valid].long().flatten()
    if p.numel() and (p.min() < 0 or p.max() >= num_classes):
        raise ValueError(f'predicted classes must be in [0, {num_classes}), '
                         f'got {int(p.min())}..{int(p.max())}: '
                         'model.decode_head.num_classes must be the number '
                         "of the dataset's classes")
    if g.numel() and g.max() >= num_classes:
        raise ValueError(
            f'label class {int(g.max())} outside the {num_classes} classes of '
            f'the dataset (0 = no change); ignore_index is {ignore_index}')
    counts = torch.bincount(p * num_classes + g, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes).cpu().numpy().astype(
        np.int64)


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _kappa(hist: np.ndarray) -> float:
    total = hist.sum()
    if total == 0:
        return 0.0
    po = np.trace(hist) / total
    pe = float(hist.sum(1) @ hist.sum(0)) / total**2
    return 0.0 if pe == 1 else (po - pe) / (1 - pe)


def scd_scores(hist: np.ndarray) -> Dict[str, float]:
    """SeK, Fscd, mIoU and OA from the from-to confusion of both dates.

    Args:
        hist (np.ndarray): (K, K) counts, rows = prediction, columns =
            label, class 0 = no change, summed over both dates' maps.

    Returns:
        dict: fractions: ``SeK`` (kappa of ``hist`` with the no-change /
        no-change cell zeroed, times e^(IoU_change - 1)), ``Fscd`` with
        ``Pscd``/``Rscd`` (pixels whose predicted and true classes are the
        same change class, over predicted / true changed pixels), ``mIoU``
        (mean of the no-change and change IoUs), ``IoU_nc``, ``IoU_c``,
        ``OA`` (diagonal of ``hist`` over its total), ``Kappa_n0``.
        A ratio with a zero denominator is 0.
    """
    hist = hist.astype(np.float64)
    total = hist.sum()
    nn = hist[0, 0]
    pred_nc, label_nc = hist[0].sum(), hist[:, 0].sum()
    cc = hist[1:, 1:].sum()
    iou_nc = _div(nn, pred_nc + label_nc - nn)
    iou_c = _div(cc, (total - pred_nc) + (total - label_nc) - cc)
    hist_n0 = hist.copy()
    hist_n0[0, 0] = 0
    kappa_n0 = _kappa(hist_n0)
    sc_tp = np.trace(hist[1:, 1:])
    precision = _div(sc_tp, total - pred_nc)
    recall = _div(sc_tp, total - label_nc)
    return OrderedDict(
        SeK=kappa_n0 * math.exp(iou_c - 1),
        Fscd=_div(2 * precision * recall, precision + recall),
        mIoU=(iou_nc + iou_c) / 2,
        OA=_div(np.trace(hist), total),
        Pscd=precision,
        Rscd=recall,
        IoU_nc=iou_nc,
        IoU_c=iou_c,
        Kappa_n0=kappa_n0)


def save_palette_png(path: str, index_map: np.ndarray,
                     palette: Sequence[Sequence[int]]) -> None:
    """Write an index PNG (mode P) whose palette holds the class colours."""
    img = Image.fromarray(index_map.astype(np.uint8), mode='P')
    flat = [v for c in palette for v in c]
    img.putpalette(flat + [0] * (768 - len(flat)))
    img.save(path)


@METRICS.register_module()
class SCDMetric(BaseMetric):
    """Semantic change metrics from the from-to confusion over a split.

    Each sample carries ``pred_sem_seg_from``/``pred_sem_seg_to`` (classes
    shown only where change is predicted, 0 = no change) and
    ``gt_sem_seg_from``/``gt_sem_seg_to``. Only the (K, K) counts of each
    sample are kept, so collecting them across processes gives the counts
    of one process. Reported in percent: ``SeK``, ``Fscd``, ``mIoU``,
    ``OA``, ``Pscd``, ``Rscd``, ``IoU_nc``, ``IoU_c``, ``Kappa_n0`` and
    ``IoU.<class>`` (per change class, both dates). The from-to confusion
    (label date 1 class -> date 2 class) is logged.

    Args:
        ignore_index (int): label value left out. Default: 255.
        output_dir (str, optional): also write the predictions as index PNGs
            with the dataset's palette to ``output_dir/label1/<name>.png``
            and ``output_dir/label2/<name>.png`` (``tools/test.py --out``).
            Default: None.
        keep_results (bool): accepted for ``tools/test.py --out``; unused.
        collect_device (str): 'cpu' or 'gpu'. Default: 'cpu'.
        prefix (str, optional): prefix of the metric names. Default: None.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 keep_results: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        if output_dir:
            for sub in ('label1', 'label2'):
                mkdir_or_exist(osp.join(output_dir, sub))

    @property
    def num_classes(self) -> int:
        meta = self.dataset_meta or {}
        assert 'classes' in meta, (
            'SCDMetric needs dataset_meta["classes"] (no change first)')
        return len(meta['classes'])

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        k = self.num_classes
        for sample in data_samples:
            preds = [
                sample[f'pred_sem_seg_{d}']['data'].squeeze(0)
                for d in ('from', 'to')
            ]
            if self.output_dir:
                name = osp.splitext(osp.basename(sample['img_path']))[0]
                palette = self.dataset_meta.get('palette')
                for sub, pred in zip(('label1', 'label2'), preds):
                    save_palette_png(
                        osp.join(self.output_dir, sub, f'{name}.png'),
                        pred.cpu().numpy(), palette)
            hist = np.zeros((k, k), np.int64)
            for d, pred in zip(('from', 'to'), preds):
                gt = sample[f'gt_sem_seg_{d}']['data'].squeeze(0)
                hist += scd_confusion(pred, gt.to(pred.device), k,
                                      self.ignore_index)
            fromto = np.zeros((k, k), np.int64)
            g1 = sample['gt_sem_seg_from']['data'].squeeze(0).long()
            g2 = sample['gt_sem_seg_to']['data'].squeeze(0).long()
            valid = (g1 != self.ignore_index) & (g2 != self.ignore_index)
            if valid.any():
                fromto += torch.bincount(
                    g1[valid] * k + g2[valid],
                    minlength=k * k).reshape(k, k).cpu().numpy()
            self.results.append((hist, fromto))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        hist = np.sum([r[0] for r in results], axis=0)
        scores = scd_scores(hist)
        metrics = OrderedDict(
            (key, round(v * 100, 2)) for key, v in scores.items())
        classes = self.dataset_meta['classes']
        for i, name in enumerate(classes[1:], start=1):
            union = hist[i].sum() + hist[:, i].sum() - hist[i, i]
            if union:
                metrics[f'IoU.{name}'] = round(hist[i, i] / union * 100, 2)
        fromto = np.sum([r[1] for r in results], axis=0)
        print_log(
            'SCD confusion (rows = prediction, columns = label, '
            f'classes {list(classes)}):\n{hist}\n'
            f'label from-to pixels (rows = date 1):\n{fromto}',
            logger=MMLogger.get_current_instance())
        return metrics
