import numpy as np
import pytest
from mmcv.transforms import Compose

import seg_plugins  # noqa: F401
from tests.cd_fixture import coded_pair, write_pair

pytestmark = pytest.mark.usefixtures('mmseg_scope')


# Load a pair, concatenate it, then mmseg's own 90-degree turns and flips.
LOAD_CONCAT_ROTATE = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    dict(type='ConcatCDInput'),
    dict(type='RandomRotFlip', rotate_prob=0.0, flip_prob=1.0),
]


def load(tmp_path, h=40, w=56):
    img_a, img_b, label = coded_pair(h, w, seed=3)
    write_pair(tmp_path, 'train', 'x', img_a, img_b, label)
    results = dict(
        img_path=str(tmp_path / 'train/A/x.png'),
        img_path2=str(tmp_path / 'train/B/x.png'),
        seg_map_path=str(tmp_path / 'train/label/x.png'),
        seg_fields=[], reduce_zero_label=False)
    return results, label // 255


def assert_aligned(img, gt, label):
    """Every output pixel of A, B and the label comes from one source pixel.

    Loaded BGR, image A is (0, col, row) and image B is (1, col, row).
    """
    assert img.shape[2] == 6
    np.testing.assert_array_equal(img[..., 0], 0)
    np.testing.assert_array_equal(img[..., 3], 1)
    np.testing.assert_array_equal(img[..., 1], img[..., 4])
    np.testing.assert_array_equal(img[..., 2], img[..., 5])
    rows, cols = img[..., 2].astype(int), img[..., 1].astype(int)
    np.testing.assert_array_equal(gt, label[rows, cols])


@pytest.mark.parametrize('seed', range(6))
def test_upstream_geometric_transforms_after_concat_keep_pairs_aligned(
        tmp_path, seed):
    results, label = load(tmp_path)
    pipeline = Compose(LOAD_CONCAT_ROTATE + [
        dict(type='RandomCrop', crop_size=(24, 32)),
        dict(type='RandomFlip', prob=0.5, direction=['horizontal',
                                                     'vertical']),
        dict(type='Resize', scale=(64, 48), keep_ratio=False,
             interpolation='nearest'),
    ])
    np.random.seed(seed)
    out = pipeline(results)
    assert out['img'].shape[:2] == out['gt_seg_map'].shape == (48, 64)
    assert_aligned(out['img'], out['gt_seg_map'], label)


def test_rotation_really_rotates(tmp_path):
    """The check above would pass for identity; make sure 90 degree turns
    and flips do happen and keep alignment."""
    results, label = load(tmp_path)
    pipeline = Compose(LOAD_CONCAT_ROTATE)
    shapes = set()
    for seed in range(12):
        np.random.seed(seed)
        out = pipeline(dict(results, seg_fields=[]))
        assert_aligned(out['img'], out['gt_seg_map'], label)
        shapes.add(out['img'].shape[:2])
    assert shapes == {(40, 56), (56, 40)}


def photometric(share):
    return Compose([
        dict(type='ApplyToEachImage', share_random_params=share,
             transforms=[dict(type='PhotoMetricDistortion')]),
    ])


def same_pair():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    return dict(img=img.copy(), img2=img.copy())


def test_photometric_shared_gives_identical_dates():
    for seed in range(5):
        np.random.seed(seed)
        out = photometric(True)(same_pair())
        np.testing.assert_array_equal(out['img'], out['img2'])


def test_photometric_independent_per_date():
    differ = 0
    for seed in range(5):
        np.random.seed(seed)
        out = photometric(False)(same_pair())
        differ += not np.array_equal(out['img'], out['img2'])
    assert differ >= 3
