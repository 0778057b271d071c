"""Relative radiometric normalisation: statistics of a scene pair sampled in
bounded memory, 'standardize' and 'match', and their use by scene
inference (once per scene, recorded in the change COG) and tools/infer.py.
"""
import numpy as np
import pytest
import rasterio

from seg_plugins.geo.radiometry import (
    PairStats,
    RadiometricNormalizer,
    pair_stats,
    scene_stats,
)
from seg_plugins.geo.raster_pair import RasterPair
from seg_plugins.utils.synthetic_scene import write_scene_pair
from tests.geo.scene_fixture import scene_bands, write_tif

GAIN = np.array([1.15, 0.85, 1.1, 0.9])
OFFSET = np.array([-12.0, 9.0, 6.0, -10.0])  # uint8 levels (40 DN each)


@pytest.fixture(scope='module')
def pairs(tmp_path_factory):
    """One 4-band uint16 content (nodata borders), B under two
    radiometries."""
    root = tmp_path_factory.mktemp('radiometry')
    flat = write_scene_pair(str(root), 320, 4, 'uint16', seed=5,
                            b_radiometry=(np.ones(4), np.zeros(4)),
                            prefix='flat')
    other = write_scene_pair(str(root), 320, 4, 'uint16', seed=5,
                             b_radiometry=(GAIN, OFFSET), prefix='other')
    return flat, other


def test_match_maps_b_onto_a_and_undoes_a_gain_and_offset():
    rng = np.random.default_rng(0)
    a = rng.gamma(4.0, 500.0, (64, 64, 4)).astype(np.uint16) + 1
    b = (a * GAIN[None, None] + OFFSET * 40).astype(np.float32)
    valid = np.ones((64, 64), bool)
    valid[:8] = False
    stats = pair_stats(a, b, valid)
    assert stats.pixels == 56 * 64
    out_a, out_b = RadiometricNormalizer('match', stats).apply(a, b, valid)
    assert out_a.dtype == out_b.dtype == np.float32
    np.testing.assert_array_equal(out_a[valid], a[valid])  # A as it was
    err = np.abs(out_b - a)[valid]
    assert np.percentile(err, 99) < 0.02 * a.mean()
    assert (out_b[~valid] == 0).all() and (out_a[~valid] == 0).all()
    # Beyond the matched quantiles the mapping goes on, monotonic.
    top = np.full((1, 1, 4), b.max() * 1.5, np.float32)
    assert (RadiometricNormalizer('match', stats).apply(top, top)[1] >
            a.max(axis=(0, 1))).all()


def test_standardize_maps_each_date_onto_the_target():
    rng = np.random.default_rng(1)
    a = rng.normal(3000, 800, (48, 48, 4)).astype(np.float32)
    b = a * GAIN + 400
    norm = RadiometricNormalizer('standardize', pair_stats(a, b),
                                 [100.0] * 4, [10.0] * 4)
    out_a, out_b = norm.apply(a, b)
    for out in (out_a, out_b):
        np.testing.assert_allclose(out.mean((0, 1)), 100, atol=1e-2)
        np.testing.assert_allclose(out.std((0, 1)), 10, rtol=1e-3)
    np.testing.assert_allclose(out_a, out_b, atol=1e-2)
    same = RadiometricNormalizer('none').apply(a, b)
    assert same[0] is a and same[1] is b


def test_stats_round_trip_and_bad_statistics():
    rng = np.random.default_rng(2)
    stats = pair_stats(rng.random((10, 10, 3)), rng.random((10, 10, 3)))
    back = PairStats.from_dict(stats.to_dict())
    np.testing.assert_allclose(back.quantiles, stats.quantiles, atol=1e-3)
    with pytest.raises(ValueError, match='band_stats.json: not per-date'):
        PairStats.from_dict({'A': {}}, 'band_stats.json')
    with pytest.raises(ValueError, match="radiometric='histogram'"):
        RadiometricNormalizer('histogram', stats)


def test_scene_stats_sample_in_bounded_windows(pairs):
    flat, _ = pairs
    with RasterPair(flat['a'], flat['b']) as pair:
        full_a, full_b, valid = pair.read(slice(0, 320), slice(0, 320))
        exact = pair_stats(full_a, full_b, valid)
        sampled = scene_stats(pair, window=64, max_windows=4, step=2)
    # 16 windows of 64^2, every other pixel: a sixth of the scene's pixels.
    assert sampled.pixels <= 16 * 32 * 32 < 320 * 320 / 6
    np.testing.assert_allclose(sampled.mean, exact.mean, rtol=0.05)
    np.testing.assert_allclose(sampled.std, exact.std, rtol=0.1)


def test_scene_stats_see_the_radiometry_of_b(pairs):
    flat, other = pairs
    stats = {}
    for name, paths in (('flat', flat), ('other', other)):
        with RasterPair(paths['a'], paths['b']) as pair:
            stats[name] = scene_stats(pair)
    # Same A; B's mean moved by the gain and offset (plus clipping).
    np.testing.assert_allclose(stats['flat'].mean[0], stats['other'].mean[0])
    expected = stats['flat'].mean[1] * GAIN + OFFSET * 40
    np.testing.assert_allclose(stats['other'].mean[1], expected, rtol=0.02)


def test_no_valid_overlap_is_a_clear_error(tmp_path):
    bands = scene_bands(64, 64, 0, 4, np.uint16)
    left, right = bands.copy(), bands.copy()
    left[:, :, 32:] = 0
    right[:, :, :32] = 0
    a = write_tif(tmp_path / 'left.tif', left, nodata=0)
    b = write_tif(tmp_path / 'right.tif', right, nodata=0)
    with RasterPair(str(a), str(b)) as pair, pytest.raises(
            ValueError, match=r'left.tif and .*right.tif: no pixel is valid '
            'in both dates'):
        scene_stats(pair)


def test_scene_inference_normalises_once_per_scene(tiny, tmp_path):
    """Every tile gets the scene's mapping: the streamed map equals the
    in-memory one of the whole pair normalised beforehand with the same
    statistics (tiles normalised on their own would not agree). The change
    COG records the method."""
    from seg_plugins.apis import infer_change, infer_change_scene
    from seg_plugins.apis.scene_inference import scene_normalizer
    model, _, _ = tiny
    a = write_tif(tmp_path / 'a.tif', scene_bands(150, 140, 3))
    b_bands = scene_bands(150, 140, 3).astype(np.float32)
    b_bands = np.clip(b_bands * 0.8 + 30, 1, 255).astype(np.uint8)
    b_bands[:, :20, 100:] = 250  # a change
    b = write_tif(tmp_path / 'b.tif', b_bands)
    for method in ('match', ):
        out = tmp_path / f'{method}.tif'
        summary = infer_change_scene(model, str(a), str(b), str(out),
                                     tile=64, overlap=16,
                                     radiometric=method)
        assert summary['radiometric'] == method
        with rasterio.open(out) as src:
            assert src.tags()['RADIOMETRIC'] == method
            streamed = src.read(1)
        with RasterPair(str(a), str(b)) as pair:
            img_a, img_b, valid = pair.read(slice(0, 150), slice(0, 140))
            norm = scene_normalizer(model, pair, method)
        img_a, img_b = norm.apply(img_a, img_b, valid)
        change, _ = infer_change(model, img_a, img_b, tile=64, overlap=16)
        np.testing.assert_array_equal(streamed, change)
    plain = tmp_path / 'none.tif'
    infer_change_scene(model, str(a), str(b), str(plain), tile=64,
                       overlap=16)
    with rasterio.open(plain) as src:
        assert src.tags()['RADIOMETRIC'] == 'none'


def test_infer_tool_radiometric_option(tiny, tmp_path):
    import importlib.util

    from tests.conftest import REPO
    spec = importlib.util.spec_from_file_location('infer',
                                                  REPO / 'tools/infer.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    _, config, ckpt = tiny
    a = write_tif(tmp_path / 'a.tif', scene_bands(70, 60, 4))
    b = write_tif(tmp_path / 'b.tif', scene_bands(70, 60, 5))
    common = ['--config', str(config), '--checkpoint', str(ckpt)]
    tool.main([str(a), str(b), *common, '--out', str(tmp_path / 'c.tif'),
               '--radiometric', 'match', '--tile', '64'])
    with rasterio.open(tmp_path / 'c.tif') as src:
        assert src.tags()['RADIOMETRIC'] == 'match'
    with pytest.raises(SystemExit):
        tool.parse_args([str(a), str(b), *common, '--out', 'c.png',
                         '--radiometric', 'match'])
    with pytest.raises(SystemExit):
        tool.parse_args([str(a), str(b), *common, '--out', 'c.tif',
                         '--radiometric', 'histogram'])
