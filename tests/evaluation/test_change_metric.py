import math

import pytest
import torch

from seg_plugins.evaluation.change_metric import ChangeMetric


def sample(pred, gt, prob=None):
    s = dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
             gt_sem_seg=dict(data=torch.tensor(gt)[None]))
    if prob is not None:
        s['seg_logits'] = dict(data=torch.tensor(prob)[None])
    return s


def test_metric_equals_hand_computation_over_the_whole_split():
    # Two maps of different change density: summing confusion counts first
    # differs from averaging per-image scores.
    s1 = sample([[1, 1, 0, 0]], [[1, 0, 0, 0]])
    s2 = sample([[0, 0, 1, 1], [1, 1, 0, 0]], [[0, 1, 1, 1], [1, 1, 255, 0]])
    metric = ChangeMetric()
    metric.process({}, [s1])
    metric.process({}, [s2])
    got = metric.compute_metrics(metric.results)
    tp, fp, fn, tn = 1 + 4, 1 + 0, 0 + 1, 2 + 2
    n = tp + fp + fn + tn
    p, r = tp / (tp + fp), tp / (tp + fn)
    oa = (tp + tn) / n
    pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    want = dict(Precision=p, Recall=r, F1=2 * p * r / (p + r),
                IoU=tp / (tp + fp + fn), OA=oa, Kappa=(oa - pe) / (1 - pe))
    for key, value in want.items():
        assert got[key] == pytest.approx(100 * value, abs=0.006), key


def test_threshold_sweep_reports_best_f1():
    gt = [[1, 1, 0, 0]]
    prob = [[0.9, 0.35, 0.3, 0.1]]
    metric = ChangeMetric(thresholds=[0.2, 0.32, 0.5])
    metric.process({}, [sample([[1, 0, 0, 0]], gt, prob)])
    got = metric.compute_metrics(metric.results)
    assert got['best_threshold'] == 0.32
    assert got['best_F1'] == 100.0
    assert math.isclose(got['F1'], 100 * 2 / 3, abs_tol=0.006)


def test_two_class_softmax_logits_are_supported():
    logits = torch.tensor([[[0.0, 3.0]], [[1.0, 0.0]]])  # (2, 1, 2)
    s = dict(pred_sem_seg=dict(data=logits.argmax(0, keepdim=True)),
             gt_sem_seg=dict(data=torch.tensor([[[1, 0]]])),
             seg_logits=dict(data=logits))
    metric = ChangeMetric(thresholds=[0.5])
    metric.process({}, [s])
    got = metric.compute_metrics(metric.results)
    assert got['F1'] == got['best_F1'] == 100.0
