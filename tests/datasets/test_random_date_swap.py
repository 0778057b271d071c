"""RandomDateSwap on a pair loaded from PNGs by the real loaders."""
import random

import numpy as np
import pytest
from mmcv.transforms import Compose

import seg_plugins.datasets.transforms.random_date_swap  # noqa: F401
from tests.datasets.test_pair_transforms import load

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def pipeline(prob):
    return Compose([
        dict(type='LoadImagePairFromFile'),
        dict(type='LoadChangeLabel'),
        dict(type='RandomDateSwap', prob=prob),
        dict(type='ConcatCDInput'),
    ])


def test_swapped_pair_has_b_first_and_the_same_label(tmp_path):
    results, label = load(tmp_path)
    out = pipeline(1.0)(dict(results))
    # Loaded BGR: channel 0 of image A is 0, of image B 1.
    assert (out['img'][..., 0] == 1).all() and (out['img'][..., 3] == 0).all()
    assert out['img_path'].endswith('B/x.png')
    np.testing.assert_array_equal(out['gt_seg_map'], label)
    kept = pipeline(0.0)(dict(results))
    assert (kept['img'][..., 0] == 0).all()


def test_swaps_with_the_given_probability(tmp_path):
    results, _ = load(tmp_path, 8, 8)
    swap = pipeline(0.5)
    random.seed(0)
    firsts = [swap(dict(results))['img'][0, 0, 0] for _ in range(200)]
    assert 70 <= sum(firsts) <= 130
