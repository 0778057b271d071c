"""The hard synthetic change set: changed fraction, misregistration of B,
determinism, and the converter's --preset hard on disk."""
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from seg_plugins.utils.synthetic import make_change_dataset
from seg_plugins.utils.synthetic_hard import (
    HardChangeSpec,
    hard_change_pair,
    hard_change_sample,
)
from tests.conftest import REPO

# Only the misregistration: same season, sun and illumination, no noise
# or cars, so unchanged ground is equal pixel for pixel.
CLEAN = HardChangeSpec(seasonal=False, illumination=False, noise=0.0,
                       cars=False)


def shifted_back(img_b, shift):
    """B moved onto A's grid, and the mask of pixels it covers."""
    dy, dx = shift
    h, w = img_b.shape[:2]
    out = np.zeros_like(img_b)
    valid = np.zeros((h, w), bool)
    ys, yd = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0),
                                                       h - max(-dy, 0))
    xs, xd = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0),
                                                       w - max(-dx, 0))
    out[yd, xd] = img_b[ys, xs]
    valid[yd, xd] = True
    return out, valid


def test_changed_fraction_around_five_percent():
    fractions = [(hard_change_sample(0, i, 256)[2] == 255).mean()
                 for i in range(24)]
    assert all(0.005 <= f <= 0.15 for f in fractions), fractions
    assert 0.03 <= np.mean(fractions) <= 0.08, np.mean(fractions)
    labels = np.unique(hard_change_sample(0, 0, 256)[2])
    assert set(labels) == {0, 255}


def test_b_is_misregistered_and_the_label_is_on_a_grid():
    shifts = set()
    for i in range(6):
        pair = hard_change_pair(1, i, 128, CLEAN)
        dy, dx = pair.shift
        assert 1 <= max(abs(dy), abs(dx)) <= 2, pair.shift
        shifts.add(pair.shift)
        back, valid = shifted_back(pair.img_b, pair.shift)
        same = (back == pair.img_a).all(-1)
        unchanged = valid & (pair.label == 0)
        changed = valid & (pair.label == 255)
        # Unchanged ground lines up once B is moved back by its shift (the
        # rest is shadows of changed buildings)...
        assert same[unchanged].mean() > 0.9, same[unchanged].mean()
        # ... but not without moving it: B is offset.
        assert (pair.img_b == pair.img_a).all(-1)[unchanged].mean() < 0.5
        # The label marks where A and the moved-back B differ.
        assert same[changed].mean() < 0.3, same[changed].mean()
    assert len(shifts) > 1


def test_preset_shift_range_and_distractors():
    pair = hard_change_pair(0, 3, 128)
    assert 1 <= max(abs(v) for v in pair.shift) <= 2
    back, valid = shifted_back(pair.img_b, pair.shift)
    unchanged = valid & (pair.label == 0)
    # Season, illumination and noise: unchanged ground is not equal.
    diff = np.abs(back.astype(int) - pair.img_a)[unchanged]
    assert diff.mean() > 10, diff.mean()


def test_deterministic_by_seed_and_index():
    a, b = hard_change_pair(0, 5, 64), hard_change_pair(0, 5, 64)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    other = hard_change_pair(1, 5, 64)
    assert not np.array_equal(a.img_a, other.img_a)


def test_converter_writes_the_hard_preset(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [
        'make_synthetic_cd.py', '--preset', 'hard', '--out',
        str(tmp_path / 'tool'), '--size', '96', '--num-train', '2',
        '--num-val', '1', '--num-test', '1'])
    runpy.run_path(str(REPO / 'tools/dataset_converters/make_synthetic_cd.py'),
                   run_name='__main__')
    assert 'hard pairs of 96x96' in capsys.readouterr().out
    make_change_dataset(str(tmp_path / 'lib'), {'train': 2, 'val': 1,
                                                'test': 1}, 96, 0, 'hard')
    for split, num in (('train', 2), ('val', 1), ('test', 1)):
        for folder in ('A', 'B', 'label'):
            files = sorted((tmp_path / 'tool' / split / folder).glob('*.png'))
            assert len(files) == num
            for f in files:
                img = np.asarray(Image.open(f))
                assert img.shape[:2] == (96, 96)
                lib = np.asarray(Image.open(
                    tmp_path / 'lib' / split / folder / f.name))
                np.testing.assert_array_equal(img, lib)
    sample = hard_change_sample(0, 0, 96)
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / 'tool/train/B/train_0000.png')),
        sample[1])


def test_unknown_preset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="preset must be one of"):
        make_change_dataset(str(tmp_path), preset='harder')
