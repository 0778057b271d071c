"""SCDMetric against counts computed by hand (see each test's comments)."""
import math
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from seg_plugins.evaluation.scd_metric import SCDMetric

META = dict(classes=('unchanged', 'a', 'b'),
            palette=[[255, 255, 255], [0, 0, 255], [128, 0, 0]])


def _sample(p1, g1, p2, g2, name='x.png'):
    t = lambda a: dict(data=torch.tensor(a).unsqueeze(0))  # noqa: E731
    return dict(pred_sem_seg_from=t(p1), gt_sem_seg_from=t(g1),
                pred_sem_seg_to=t(p2), gt_sem_seg_to=t(g2), img_path=name)


def _evaluate(samples, meta=META, **kwargs):
    metric = SCDMetric(**kwargs)
    metric.dataset_meta = meta
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_scores_equal_hand_counts():
    # (pred, label) pairs, date 1: (0,0) (1,1) (1,2) (0,1); date 2: (0,0)
    # (2,2) (1,1) (0,2). Rows = prediction: [[2,1,1],[0,2,1],[0,0,1]].
    # IoU_nc = 2/(4+2-2) = 1/2; IoU_c = 4/(4+6-4) = 2/3; OA = 5/8.
    # Zeroing cell (0,0): po = 3/6, pe = (2*0+3*3+1*3)/36 = 1/3,
    # kappa = (1/2-1/3)/(2/3) = 1/4. Changed right: 3; P = 3/4, R = 3/6.
    res = _evaluate([
        _sample([[0, 1], [1, 0]], [[0, 1], [2, 1]],
                [[0, 2], [1, 0]], [[0, 2], [1, 2]])
    ])
    expected = {
        'SeK': 0.25 * math.exp(2 / 3 - 1), 'mIoU': (1 / 2 + 2 / 3) / 2,
        'OA': 5 / 8, 'Pscd': 3 / 4, 'Rscd': 1 / 2,
        'Fscd': 2 * 0.75 * 0.5 / 1.25, 'IoU_nc': 1 / 2, 'IoU_c': 2 / 3,
        'Kappa_n0': 0.25, 'IoU.a': 2 / 4, 'IoU.b': 1 / 3
    }
    for key, value in expected.items():
        assert res[key] == pytest.approx(round(value * 100, 2), abs=1e-6), key


def test_counts_over_the_split_not_averaged_per_image():
    # Same pixels split over two images: scores as one image.
    one = _evaluate([
        _sample([[0, 1, 1, 0]], [[0, 1, 2, 1]], [[0, 2, 1, 0]],
                [[0, 2, 1, 2]])
    ])
    two = _evaluate([
        _sample([[0, 1]], [[0, 1]], [[0, 2]], [[0, 2]], 'a.png'),
        _sample([[1, 0]], [[2, 1]], [[1, 0]], [[1, 2]], 'b.png')
    ])
    assert one == two


def test_no_change_predicted():
    # hist = [[4,2,2],[0,0,0],[0,0,0]]: nothing predicted as change, so
    # P = R = Fscd = IoU_c = 0, kappa_n0 = 0 (po = 0, pe = 0) and SeK = 0;
    # IoU_nc = 4/(8+4-4) = 1/2, OA = 4/8.
    res = _evaluate([
        _sample([[0, 0], [0, 0]], [[0, 1], [2, 0]],
                [[0, 0], [0, 0]], [[0, 2], [1, 0]])
    ])
    assert (res['SeK'], res['Fscd'], res['IoU_c']) == (0, 0, 0)
    assert res['mIoU'] == 25.0 and res['OA'] == 50.0
    assert 'IoU.a' in res and res['IoU.a'] == 0


def test_no_change_in_label():
    # hist = [[6,0,0],[1,0,0],[1,0,0]]: R's denominator is 0 -> 0; IoU_c =
    # 0/(2+0-0) = 0; IoU_nc = 6/8; hist_n0 has only column 0: po = 0,
    # pe = 0, kappa 0.
    res = _evaluate([
        _sample([[0, 1], [0, 0]], [[0, 0], [0, 0]],
                [[0, 0], [2, 0]], [[0, 0], [0, 0]])
    ])
    assert res['Rscd'] == 0 and res['Pscd'] == 0 and res['Fscd'] == 0
    assert res['IoU_c'] == 0 and res['mIoU'] == pytest.approx(37.5)
    assert res['SeK'] == 0 and res['OA'] == 75.0


def test_perfect_prediction_and_absent_class():
    # Class 'b' appears nowhere: no IoU.b. With a single changed class the
    # zeroed confusion is one cell, chance agreement pe = 1 and kappa_n0 is
    # 0 by definition; with two changed classes a perfect map has kappa 1.
    g1, g2 = [[0, 1], [1, 0]], [[0, 1], [1, 0]]
    res = _evaluate([_sample(g1, g1, g2, g2)])
    assert 'IoU.b' not in res and res['IoU.a'] == 100.0
    assert res['Fscd'] == 100.0 and res['mIoU'] == 100.0
    assert res['SeK'] == 0  # pe = 1: one changed class only
    g2 = [[0, 2], [2, 0]]
    res = _evaluate([_sample(g1, g1, g2, g2)])
    assert res['SeK'] == 100.0 and res['OA'] == 100.0


def test_ignore_index_and_bad_classes():
    res = _evaluate([
        _sample([[0, 1]], [[255, 1]], [[0, 2]], [[255, 2]])
    ])
    assert res['OA'] == 100.0
    with pytest.raises(ValueError, match='label class 5 outside the 3'):
        _evaluate([_sample([[0, 1]], [[0, 5]], [[0, 1]], [[0, 1]])])
    with pytest.raises(ValueError, match=r'got 0\.\.5: model\.decode_head\.'
                       'num_classes must be'):
        _evaluate([_sample([[0, 5]], [[0, 1]], [[0, 1]], [[0, 1]])])


def test_out_dir_writes_palette_pngs(tmp_path):
    from PIL import Image
    _evaluate([
        _sample([[0, 1]], [[0, 1]], [[0, 2]], [[0, 2]], 'dir/p1.png')
    ], output_dir=str(tmp_path))
    for sub, value in (('label1', 1), ('label2', 2)):
        img = Image.open(tmp_path / sub / 'p1.png')
        assert img.mode == 'P'
        assert np.array(img).tolist() == [[0, value]]
        pal = img.getpalette()[:9]
        assert pal == [255, 255, 255, 0, 0, 255, 128, 0, 0]


def _random_samples(n=6):
    g = torch.Generator().manual_seed(0)
    r = lambda: torch.randint(0, 3, (8, 8), generator=g).tolist()  # noqa
    return [_sample(r(), r(), r(), r(), f'{i}.png') for i in range(n)]


def _rank(rank, tmp):
    dist.init_process_group('gloo', init_method=f'file://{tmp}/store',
                            rank=rank, world_size=2)
    samples = _random_samples()
    metric = SCDMetric()
    metric.dataset_meta = META
    # mmengine's distributed sampler deals samples round-robin.
    metric.process({}, samples[rank::2])
    res = metric.evaluate(len(samples))
    with open(osp.join(tmp, f'rank{rank}.pkl'), 'wb') as f:
        pickle.dump(res, f)
    dist.destroy_process_group()


def test_two_processes_equal_one(tmp_path):
    # fork: the children need not import the stack again.
    mp.start_processes(_rank, args=(str(tmp_path), ), nprocs=2,
                       start_method='fork')
    single = _evaluate(_random_samples())
    for rank in range(2):
        with open(tmp_path / f'rank{rank}.pkl', 'rb') as f:
            assert pickle.load(f) == single
