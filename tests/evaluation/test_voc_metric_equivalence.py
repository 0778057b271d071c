"""mmseg's IoUMetric equals the confusion-matrix formulas of the tutorial
"pytorch使用voc分割数据集训练FCN流程讲解" applied to the whole split; the
tutorial's per-batch average does not."""
import numpy as np
import pytest
import torch
from mmseg.datasets import PascalVOCDataset
from mmseg.evaluation import IoUMetric

N_CLASS = 21


def _fast_hist(label_true, label_pred, n_class):
    """The FCN/VOC tutorial's, verbatim."""
    mask = (label_true >= 0) & (label_true < n_class)
    hist = np.bincount(
        n_class * label_true[mask].astype(int) + label_pred[mask],
        minlength=n_class**2).reshape(n_class, n_class)
    return hist


def label_accuracy_score(label_trues, label_preds, n_class):
    """The FCN/VOC tutorial's, verbatim (without the unused ``freq``)."""
    hist = np.zeros((n_class, n_class))
    for lt, lp in zip(label_trues, label_preds):
        hist += _fast_hist(lt.flatten(), lp.flatten(), n_class)
    acc = np.diag(hist).sum() / hist.sum()
    with np.errstate(divide='ignore', invalid='ignore'):
        acc_cls = np.diag(hist) / hist.sum(axis=1)
    acc_cls = np.nanmean(acc_cls)
    with np.errstate(divide='ignore', invalid='ignore'):
        iu = np.diag(hist) / (
            hist.sum(axis=1) + hist.sum(axis=0) - np.diag(hist))
    mean_iu = np.nanmean(iu)
    return acc, acc_cls, mean_iu


def split_predictions(seed=0, n=8):
    """Labels (with 255 borders) and noisy predictions of varied sizes;
    each image shows a few of the 21 classes, some none of the rare ones."""
    rng = np.random.default_rng(seed)
    trues, preds = [], []
    for _ in range(n):
        h, w = rng.integers(20, 60, 2)
        present = rng.choice(N_CLASS, rng.integers(2, 6), replace=False)
        gt = present[rng.integers(0, len(present), (h // 4 + 1, w // 4 + 1))]
        gt = gt.repeat(4, 0).repeat(4, 1)[:h, :w]
        gt[rng.random((h, w)) < 0.05] = 255
        pred = gt.copy()
        flip = rng.random((h, w)) < 0.3
        pred[flip] = rng.integers(0, N_CLASS, flip.sum())
        pred[pred == 255] = 0  # a model predicts classes only
        trues.append(gt.astype(np.int64))
        preds.append(pred.astype(np.int64))
    return trues, preds


def iou_metric(trues, preds):
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=PascalVOCDataset.METAINFO['classes'])
    samples = [
        dict(pred_sem_seg=dict(data=torch.from_numpy(p)[None]),
             gt_sem_seg=dict(data=torch.from_numpy(t)[None]))
        for t, p in zip(trues, preds)
    ]
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_iou_metric_equals_tutorial_formulas_on_the_whole_split():
    trues, preds = split_predictions()
    ours = iou_metric(trues, preds)
    acc, acc_cls, mean_iu = label_accuracy_score(trues, preds, N_CLASS)
    # IoUMetric reports percentages rounded to 2 decimals.
    assert ours['aAcc'] == pytest.approx(round(100 * acc, 2), abs=1e-4)
    assert ours['mAcc'] == pytest.approx(round(100 * acc_cls, 2), abs=1e-4)
    assert ours['mIoU'] == pytest.approx(round(100 * mean_iu, 2), abs=1e-4)
    assert 10 < ours['mIoU'] < 95  # a non-trivial case


def test_per_batch_average_of_the_tutorial_is_biased():
    trues, preds = split_predictions()
    whole = label_accuracy_score(trues, preds, N_CLASS)
    batches = [
        label_accuracy_score(trues[i:i + 2], preds[i:i + 2], N_CLASS)
        for i in range(0, len(trues), 2)
    ]
    per_batch = np.mean(batches, axis=0)
    # Classes missing from a batch drop out of its mean, and small images
    # weigh as much as large ones: mIoU and mAcc come out different.
    assert abs(per_batch[2] - whole[2]) > 0.1
    assert abs(per_batch[1] - whole[1]) > 1e-3
