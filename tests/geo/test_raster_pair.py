"""RasterPair's validity per window equals GDAL's own masks, whichever way
a file marks its nodata (the integer nodata case is computed in numpy), and
a band's value without data reads as 0."""
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
import pytest
import rasterio

from seg_plugins.geo import to_loader_order
from seg_plugins.geo.raster_pair import RasterPair
from tests.geo.scene_fixture import scene_bands, write_tif

H, W = 150, 170
WINDOWS = [(slice(0, 64), slice(0, 64)),
           (slice(40, 150), slice(100, 170)),
           (slice(-20, 44), slice(150, 214)),  # leaves the scene
           (slice(0, H), slice(0, W))]


def _holes(seed: int) -> np.ndarray:
    """(H, W) bool, True where a pixel is nodata in every band, plus
    pixels where only one band holds the nodata value (still valid)."""
    rng = np.random.default_rng(seed)
    holes = np.zeros((H, W), bool)
    holes[:, :30] = True
    holes[rng.random((H, W)) < 0.05] = True
    return holes


def _make(tmp_path, kind: str):
    data = scene_bands(H, W, seed=3, count=4, dtype=np.uint16
                       if kind == 'uint16' else np.uint8)
    holes = _holes(1)
    partial = np.random.default_rng(2).random((H, W)) < 0.05
    if kind in ('uint8', 'uint16'):
        data[:, holes] = 7
        data[:3, partial] = 7  # some bands at nodata: the pixel stays valid
        return write_tif(tmp_path / f'{kind}.tif', data, nodata=7)
    if kind in ('float_nan', 'float_undeclared'):
        data = data.astype(np.float32)
        data[:, holes] = np.nan
        data[:3, partial] = np.nan  # some bands only: the pixel is valid
        data[3, np.random.default_rng(4).random((H, W)) < 0.05] = np.inf
        return write_tif(tmp_path / 'f.tif', data, nodata=np.nan
                         if kind == 'float_nan' else None)
    if kind == 'mask':
        return write_tif(tmp_path / 'm.tif', data, mask=~holes)
    if kind == 'alpha':
        alpha = np.where(holes, 0, 255).astype(np.uint8)[None]
        return write_tif(tmp_path / 'a.tif',
                         np.concatenate([data[:3], alpha]),
                         photometric='rgb', alpha='yes')
    return write_tif(tmp_path / 'n.tif', data)  # 'none': all valid


KINDS = ['uint8', 'uint16', 'float_nan', 'float_undeclared', 'mask',
         'alpha', 'none']


def _expected(path, bands):
    """Per band, the values a model must see (0 without data) and where
    there is data: GDAL's masks, and finite values."""
    with rasterio.open(path) as src:
        data, masks = src.read(bands), src.read_masks(bands)
    has_data = (masks > 0) & np.isfinite(data)
    return to_loader_order(np.where(has_data, data, 0)), has_data


def _window(full: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """``full`` (H, W, ...) cut to a window that may leave it, 0 outside."""
    out = np.zeros((rows.stop - rows.start, cols.stop - cols.start) +
                   full.shape[2:], full.dtype)
    r0, c0 = max(rows.start, 0), max(cols.start, 0)
    r1, c1 = min(rows.stop, H), min(cols.stop, W)
    out[r0 - rows.start:r1 - rows.start,
        c0 - cols.start:c1 - cols.start] = full[r0:r1, c0:c1]
    return out


# 3 bands are compared one by one; 1 or 4 (a pixel of 1, 2, 4 or 8 bytes)
# as one word. A band's value without data (nodata, masked, NaN, inf) reads
# as 0, where the pixel is valid through another band too.
@pytest.mark.parametrize('bands', [[1, 2, 3], [1, 2, 3, 4], [2]])
@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('dates_at_once', [False, True])
def test_validity_equals_gdal_masks(tmp_path, kind, bands, dates_at_once):
    if kind == 'alpha' and len(bands) == 4:
        pytest.skip('band 4 is the alpha band')
    path = _make(tmp_path, kind)
    values, has_data = _expected(path, bands)
    gdal_valid = has_data.any(axis=0)
    if kind != 'none':
        assert not gdal_valid.all()  # the case has nodata to find
    with RasterPair(path, path, bands=bands) as pair, (
            ThreadPoolExecutor(2) if dates_at_once else nullcontext()) as pool:
        for rows, cols in WINDOWS:
            img_a, img_b, valid = pair.read(rows, cols, pool)
            np.testing.assert_array_equal(img_a, img_b)
            np.testing.assert_array_equal(valid,
                                          _window(gdal_valid, rows, cols))
            np.testing.assert_array_equal(img_a, _window(values, rows, cols))


def test_b_is_not_read_where_a_is_nodata_throughout(tmp_path):
    a = scene_bands(H, W, seed=4)
    a[:, :, :64] = 0
    path_a = write_tif(tmp_path / 'a.tif', a, nodata=0)
    path_b = write_tif(tmp_path / 'b.tif', scene_bands(H, W, seed=5),
                       nodata=0)
    with RasterPair(path_a, path_b) as pair:
        _, img_b, valid = pair.read(slice(0, 64), slice(0, 64))
        assert not valid.any() and not img_b.any()
        _, img_b, valid = pair.read(slice(0, 64), slice(32, 96))
        assert valid[:, 32:].all() and not valid[:, :32].any()
        assert img_b[:, :32].any()  # B read: A is valid in part
    # Read at once, B is read all the same; nothing else differs.
    with RasterPair(path_a, path_b) as pair, ThreadPoolExecutor(2) as pool:
        _, img_b, valid = pair.read(slice(0, 64), slice(0, 64), pool)
        assert not valid.any() and img_b.any()
