"""COGWriter gathers adjacent windows into strips; whatever the order and
shape of the windows, the COG holds exactly what was written."""
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from seg_plugins.geo import cog
from seg_plugins.geo.grid import Grid

H, W = 100, 130


def _windows():
    """Rows of adjacent windows, a gap, a window out of order and one on
    other rows: each kind of break a strip can meet."""
    for r0 in range(0, H, 25):
        for c0 in range(0, 100, 20):
            yield slice(r0, r0 + 25), slice(c0, c0 + 20)
    yield slice(0, 50), slice(115, 130)  # not adjacent to the last one
    yield slice(0, 50), slice(100, 115)  # to the left of the last one
    yield slice(50, 75), slice(100, 115)
    yield slice(75, 100), slice(115, 130)  # adjacent columns, other rows
    yield slice(50, 75), slice(115, 130)
    yield slice(75, 100), slice(100, 115)


@pytest.mark.parametrize('max_strip', [cog.MAX_STRIP, 30])
def test_cog_holds_every_window(tmp_path, monkeypatch, max_strip):
    monkeypatch.setattr(cog, 'MAX_STRIP', max_strip)
    rng = np.random.default_rng(0)
    want = rng.integers(0, 255, (H, W), dtype=np.uint8)
    valid = rng.random((H, W)) > 0.2
    grid = Grid(CRS.from_epsg(32633), Affine(2, 0, 5e5, 0, -2, 6e6), W, H)
    path = tmp_path / 'p.tif'
    writer = cog.COGWriter(path, grid, masked=True, resampling='average')
    for rows, cols in _windows():
        writer.write(rows, cols, want[rows, cols].copy(),
                     valid[rows, cols].copy())
    assert writer.commit() == str(path)
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(1), want)
        np.testing.assert_array_equal(src.read_masks(1) > 0, valid)
        assert src.transform == grid.transform and src.crs == grid.crs
    assert list(tmp_path.iterdir()) == [path]  # no .partial left


def test_resume_needs_every_raw_file_at_its_size(tmp_path):
    grid = Grid(None, Affine.identity(), 40, 30)
    path = tmp_path / 'p.tif'
    writer = cog.COGWriter(path, grid, masked=True, resampling='average')
    writer.write(slice(0, 30), slice(0, 40), np.ones((30, 40), np.uint8),
                 np.ones((30, 40), bool))
    writer.abort(keep=True)
    assert cog.not_resumable(str(path), grid, masked=True) is None
    cog.COGWriter(path, grid, masked=True, resume=True).abort(keep=True)
    mask = tmp_path / 'p.tif.partial.mask.u8'
    mask.write_bytes(b'short')
    assert cog.not_resumable(str(path), grid, masked=True) == (
        f'{mask} is not 40x30 bytes')
    mask.unlink()
    with pytest.raises(ValueError, match=r'cannot resume .*mask\.u8 missing'):
        cog.COGWriter(path, grid, masked=True, resume=True)
