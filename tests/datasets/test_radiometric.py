"""RandomRadiometric (per-date radiometry in the data's units, any dtype and
band count) and RadiometricNormalize in the pipeline, on chips that
scenes2chips cut from real GeoTIFF scenes; and a tiny model trained on
one acquisition that must hold on another."""
import json

import numpy as np
import pytest

from seg_plugins.benchmarks.radiometry_data import write_data
from seg_plugins.benchmarks.radiometry_eval import evaluate
from seg_plugins.benchmarks.radiometry_recipes import DEFAULT_RECIPE
from seg_plugins.datasets.transforms import RandomRadiometric
from seg_plugins.geo.chips import ChipOptions
from seg_plugins.geo.chips_dataset import write_chip_dataset
from seg_plugins.utils.synthetic_scene import write_scene_pair
from tests.conftest import REPO


def dn_image(seed, shape=(64, 64, 4), dtype=np.uint16, top=9000):
    rng = np.random.default_rng(seed)
    img = rng.uniform(top / 20, top, shape).astype(dtype)
    img[:6] = 0  # nodata rows, as the loader gives them
    img[10, 10, 2] = 0  # one band without data at one pixel
    return img


def test_uint16_keeps_dtype_range_and_nodata():
    np.random.seed(0)
    img = dn_image(0)
    out = RandomRadiometric().apply(img)
    assert out.dtype == np.uint16 and out.shape == img.shape
    assert out.max() > 255  # not clipped to 8 bits
    nodata = img == 0
    assert (out[nodata] == 0).all()  # left as they were
    assert (out[~nodata] >= 1).all()  # valid values never become nodata
    assert not np.array_equal(out, img)
    # Per band, within the gain and bias ranges (and a little noise).
    ratio = out[6:].mean((0, 1)) / img[6:].mean((0, 1))
    assert ((ratio > 0.75 * 0.85 - 0.2) & (ratio < 1.25 * 1.15 + 0.2)).all()


def test_each_date_draws_its_own_radiometry_any_band_count():
    np.random.seed(1)
    img = dn_image(1, (32, 32, 7))
    results = RandomRadiometric().transform(dict(img=img, img2=img.copy()))
    assert results['img'].shape == (32, 32, 7)
    assert not np.array_equal(results['img'], results['img2'])


def test_uint8_and_float_stay_in_their_dtype():
    np.random.seed(2)
    rgb = dn_image(2, (32, 32, 3), np.uint8, top=255)
    out = RandomRadiometric(gain=(1.4, 1.5), bias=(0, 0), gamma=(1, 1),
                            noise=0, correlated_noise=0).apply(rgb)
    assert out.dtype == np.uint8 and out.max() == 255  # clipped at uint8
    refl = dn_image(3, (32, 32, 4), np.float32, top=0.6)
    out = RandomRadiometric(gain=(1.5, 1.5), bias=(0, 0), gamma=(1, 1),
                            noise=0, correlated_noise=0).apply(refl)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, refl * 1.5, rtol=1e-5)


def test_bias_in_digital_numbers_and_haze_towards_short_wavelengths():
    np.random.seed(3)
    img = np.full((16, 16, 4), 1000, np.uint16)
    out = RandomRadiometric(gain=(1, 1), bias=(50, 50), bias_units='dn',
                            gamma=(1, 1), noise=0, correlated_noise=0,
                            nodata=None).apply(img)
    assert (out == 1050).all()
    hazy = RandomRadiometric(gain=(1, 1), bias=(0, 0), gamma=(1, 1),
                             noise=0, correlated_noise=0, haze=(0.2, 0.2),
                             wavelengths=[490, 560, 665, 842]).apply(img)
    added = hazy[0, 0].astype(int) - 1000
    assert added[0] == 200 and (np.diff(added) < 0).all()


@pytest.mark.parametrize('kwargs, match', [
    (dict(gain=(-0.2, 1.2)), r'gain=\(-0.2, 1.2\).* flips the sign'),
    (dict(gain=(0.0, 1.2)), 'gain'),
    (dict(gamma=(0, 1)), 'gamma'),
    (dict(bias=(0.2, -0.2)), 'low > high'),
    (dict(bias_units='percent'), 'bias_units'),
    (dict(haze=0.1), 'needs wavelengths'),
    (dict(noise=(-0.1, 0.1)), 'noise'),
])
def test_bad_ranges_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomRadiometric(**kwargs)


@pytest.fixture(scope='module')
def chips(tmp_path_factory):
    """Chips of a 4-band uint16 scene pair, band_stats.json with them."""
    root = tmp_path_factory.mktemp('radio_chips')
    scene = write_scene_pair(str(root / 'scene'), 192, 4, 'uint16', seed=9)
    write_chip_dataset([(scene['a'], scene['b'], scene['label'])],
                       root / 'chips', ChipOptions(size=64), val_fraction=0)
    return root / 'chips', scene


def test_band_stats_hold_per_date_and_per_scene_statistics(chips):
    out, _ = chips
    stats = json.loads((out / 'band_stats.json').read_text())
    assert len(stats['mean_A']) == len(stats['mean_B']) == 4
    # The pooled mean lies between the dates'.
    for m, a, b in zip(stats['mean'], stats['mean_A'], stats['mean_B']):
        assert min(a, b) - 1e-3 <= m <= max(a, b) + 1e-3
    scene = stats['scenes']['scene_A']
    assert len(scene['A']['quantiles'][0]) == len(scene['levels'])
    assert scene['pixels'] > 1000


def test_config_pipeline_augments_uint16_chips(chips):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import seg_plugins  # noqa: F401
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(REPO / 'configs/changedet_unet_4band_uint16.py'))
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types.index('RandomRadiometric') < types.index('ConcatCDInput')
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(chips[0])
    ds_cfg.pipeline = ds_cfg.pipeline[:types.index('ConcatCDInput')]
    plain = ds_cfg.copy()
    plain.pipeline = ds_cfg.pipeline[:2]
    np.random.seed(0)
    augmented, raw = DATASETS.build(ds_cfg)[0], DATASETS.build(plain)[0]
    for key in ('img', 'img2'):
        assert augmented[key].dtype == np.uint16
        nodata = raw[key] == 0
        assert (augmented[key][nodata] == 0).all()
        assert not np.array_equal(augmented[key], raw[key])


@pytest.mark.parametrize('method', ['standardize', 'match'])
def test_normalize_transform_uses_the_scene_statistics(chips, method):
    """With band_stats.json each chip is normalised by its whole scene's
    statistics, as scene inference does."""
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope

    import seg_plugins  # noqa: F401
    from seg_plugins.geo.radiometry import RadiometricNormalizer, scene_stats
    from seg_plugins.geo.raster_pair import RasterPair
    init_default_scope('mmseg')
    out, scene = chips
    mean, std = [3000.0] * 4, [1000.0] * 4
    chip = sorted((out / 'train/A').glob('*.tif'))[2]
    pipe = Compose([
        dict(type='LoadImagePairFromFile'),
        dict(type='RadiometricNormalize', method=method, mean=mean, std=std,
             stats_file=str(out / 'band_stats.json'))
    ])
    res = pipe(dict(img_path=str(chip),
                    img_path2=str(out / 'train/B' / chip.name)))
    with RasterPair(scene['a'], scene['b']) as pair:
        norm = RadiometricNormalizer(method, scene_stats(pair), mean, std)
        row, col = map(int, chip.stem.rsplit('_', 2)[1:])
        a, b, valid = pair.read(slice(row, row + 64), slice(col, col + 64))
    want_a, want_b = norm.apply(a, b, valid)
    assert res['img'].dtype == np.float32 and res['radiometric'] == method
    np.testing.assert_allclose(res['img'], want_a, atol=0.05)
    np.testing.assert_allclose(res['img2'], want_b, atol=0.05)


def test_normalize_transform_bad_input(chips, tmp_path):
    from mmseg.registry import TRANSFORMS

    import seg_plugins  # noqa: F401
    with pytest.raises(ValueError, match='method=.*expected one of'):
        TRANSFORMS.build(dict(type='RadiometricNormalize', method='hist'))
    bare = tmp_path / 'band_stats.json'
    bare.write_text(json.dumps(dict(mean=[1], std=[1])))
    with pytest.raises(ValueError, match='no per-scene statistics'):
        TRANSFORMS.build(dict(type='RadiometricNormalize',
                              stats_file=str(bare)))
    norm = TRANSFORMS.build(dict(type='RadiometricNormalize',
                                 method='match'))
    empty = np.zeros((8, 8, 4), np.uint16)
    with pytest.raises(ValueError, match='x.tif: no pixel is valid'):
        norm(dict(img=empty, img2=empty, img_path='x.tif'))


# The smallest training found to learn this task at the model's own
# threshold (fewer iterations leave every probability under 0.5).
TINY_TRAINING = dict(iters=300, base_channels=8, num_stages=4, batch_size=8,
                     lr=5e-3)
# The second date of the training pair and of the held-out pair under
# opposite per-band gains and offsets (fractions of the band means), as
# between the two Sentinel-2 acquisitions of issue 32, at half the
# benchmark's range: at its corners (gain 0.85 against 1.15, offset -10 %
# against +10 %) the default augmentation held 35 of 89 points.
OPPOSITE = {
    'same-draw': ([0.95, 1.05, 0.95, 1.05], [-0.05, 0.05, -0.05, 0.05]),
    'held-out': ([1.05, 0.95, 1.05, 0.95], [0.05, -0.05, 0.05, -0.05]),
}


def test_a_model_trained_on_one_acquisition_holds_on_another(tmp_path):
    """The 4-band config, shrunk, trained by mmengine's runner on chips of
    one scene pair, keeps its F1 on a pair of another radiometry (scene
    inference), within 15 points; without RandomRadiometric it falls by
    80 (docs/en/user_guides/radiometry.md)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # steady on a shared machine
    try:
        data = write_data(str(tmp_path), train_size=640, test_size=128,
                          radiometry=OPPOSITE)
        scores = evaluate(DEFAULT_RECIPE, data, str(tmp_path),
                          **TINY_TRAINING)
    finally:
        torch.set_num_threads(threads)
    # Measured: 93.1 and 83.3; without RandomRadiometric 94.1 and 12.3.
    assert scores['same-draw'] > 60, scores
    assert scores['held-out'] > scores['same-draw'] - 15, scores
