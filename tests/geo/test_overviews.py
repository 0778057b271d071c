"""The COG's overviews are built in numpy, chunk by chunk, and equal a
block-by-block reference and GDAL's own overviews of the same band."""
import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS

from seg_plugins.geo import cog, overviews
from seg_plugins.geo.grid import Grid


def _reference(data, valid, resampling):
    """One level down, pixel by pixel: the definition ``halve`` keeps."""
    h, w = -(-data.shape[0] // 2), -(-data.shape[1] // 2)
    out, out_valid = np.zeros((h, w), np.uint8), np.zeros((h, w), bool)
    for i in range(h):
        for j in range(w):
            block = data[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            ok = valid[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            if resampling == 'nearest':
                out[i, j], out_valid[i, j] = block[0, 0], ok[0, 0]
            elif ok.any():
                out[i, j] = int(block[ok].mean() + 0.5)
                out_valid[i, j] = True
    return out, out_valid


@pytest.mark.parametrize('shape', [(7, 9), (8, 6), (1, 5)])
@pytest.mark.parametrize('resampling', ['nearest', 'average'])
def test_halve_equals_the_block_definition(shape, resampling):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, shape, dtype=np.uint8)
    valid = rng.random(shape) > 0.4
    got, got_valid = overviews.halve(data, valid, resampling)
    want, want_valid = _reference(data, valid, resampling)
    np.testing.assert_array_equal(got_valid, want_valid)
    np.testing.assert_array_equal(got, want)


def _scene(h, w, seed=0):
    """Smooth probabilities with a ragged nodata footprint."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (h // 16 + 2, w // 16 + 2))
    data = np.kron(coarse, np.ones((16, 16)))[:h, :w].astype(np.uint8)
    valid = np.ones((h, w), bool)
    valid[:, :w // 5] = False
    valid[rng.random((h, w)) < 0.1] = False
    return data, valid


def _write(path, grid, data, valid, masked, resampling, nodata=None):
    writer = cog.COGWriter(path, grid, nodata=nodata, masked=masked,
                           resampling=resampling)
    for r in range(0, grid.height, 200):  # rows of windows, as tiles come
        for c in range(0, grid.width, 300):
            win = (slice(r, min(r + 200, grid.height)),
                   slice(c, min(c + 300, grid.width)))
            writer.write(*win, data[win].copy(),
                         valid[win].copy() if masked else None)
    return writer.commit()


@pytest.mark.parametrize('masked,resampling', [(True, 'average'),
                                               (False, 'nearest')])
def test_cog_overviews_are_the_halved_levels(tmp_path, monkeypatch, masked,
                                             resampling):
    # Odd sizes, and chunks smaller than a level, so that chunk edges and
    # the cut-short blocks at the right and bottom are both met.
    monkeypatch.setattr(overviews, 'CHUNK', 128)
    h, w = 1101, 1303
    data, valid = _scene(h, w)
    if not masked:  # a class map: nodata is a value
        data = np.where(valid, data % 2, 255).astype(np.uint8)
    grid = Grid(CRS.from_epsg(32633), Affine(2, 0, 5e5, 0, -2, 6e6), w, h)
    path = _write(tmp_path / 'o.tif', grid, data, valid, masked, resampling,
                  nodata=None if masked else 255)
    sizes = overviews.overview_sizes(h, w, cog.COG_BLOCK)
    assert sizes == [(551, 652), (276, 326)]
    with rasterio.open(path) as src:
        assert src.tags(ns='IMAGE_STRUCTURE')['LAYOUT'] == 'COG'
        assert src.overviews(1) == [2, 4]
        np.testing.assert_array_equal(src.read(1), data)
    level, level_valid = data, valid
    for i, size in enumerate(sizes):
        level, level_valid = _reference(level, level_valid, resampling)
        with rasterio.open(path, overview_level=i) as src:
            assert src.shape == size
            np.testing.assert_array_equal(src.read(1), level)
            if masked:
                np.testing.assert_array_equal(src.read_masks(1) > 0,
                                              level_valid)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['o.tif']


def test_average_overviews_equal_gdals(tmp_path):
    """Sides that halve evenly (GDAL's overviews then have the same
    sizes): the COG driver's own overviews of the same masked band."""
    h, w = 1024, 1536
    data, valid = _scene(h, w, seed=1)
    grid = Grid(CRS.from_epsg(32633), Affine(2, 0, 5e5, 0, -2, 6e6), w, h)
    ours = _write(tmp_path / 'ours.tif', grid, data, valid, True, 'average')
    with rasterio.open(tmp_path / 'plain.tif', 'w', driver='GTiff',
                       dtype='uint8', count=1, width=w, height=h,
                       crs=grid.crs, transform=grid.transform) as dst:
        dst.write(data, 1)
        dst.write_mask(valid.astype(np.uint8) * 255)
    rasterio.shutil.copy(tmp_path / 'plain.tif', tmp_path / 'gdal.tif',
                         driver='COG', resampling='average')
    for i in range(2):
        with rasterio.open(ours, overview_level=i) as a, \
                rasterio.open(tmp_path / 'gdal.tif', overview_level=i) as b:
            assert a.shape == b.shape
            np.testing.assert_array_equal(a.read_masks(1) > 0,
                                          b.read_masks(1) > 0)
            diff = np.abs(a.read(1).astype(int) - b.read(1))
            assert diff.max() <= 1, f'level {i}: {diff.max()}'


def test_stale_partials_of_a_killed_run_are_removed(tmp_path):
    path = tmp_path / 'c.tif'
    stale = [tmp_path / f'c.tif.partial{s}' for s in
             ('', '.tif', '.vrt', '.ovr1.tif', '.msk2.tif')]
    for p in stale:
        p.write_bytes(b'left by a killed run')
    grid = Grid(None, Affine.identity(), 40, 30)
    writer = cog.COGWriter(path, grid, nodata=255)
    writer.write(slice(0, 30), slice(0, 40), np.ones((30, 40), np.uint8))
    writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c.tif']
