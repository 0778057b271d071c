"""BlockRows gives exactly the pixels of a plain windowed read, whatever
the file's block layout, holding only the rows of blocks a window needs."""
import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from seg_plugins.geo.block_rows import BlockRows
from tests.geo.scene_fixture import scene_bands, write_tif

LAYOUTS = {
    'tiled 16': dict(blockxsize=16, blockysize=16),
    'tiled 64, band-interleaved': dict(interleave='band'),
    'strips of 1 row': dict(tiled=False, blockysize=1),
    'strips of 5 rows': dict(tiled=False, blockysize=5),
}


def _windows(height, width, tile=32, stride=24):
    """Tiles top down in bands of 3 tile columns, as tile_windows orders
    them; edge tiles shortened at the scene's border."""
    starts = range(0, width, stride)
    for band in range(0, len(starts), 3):
        c0 = starts[band]
        c1 = min(starts[min(band + 2, len(starts) - 1)] + tile, width)
        for r0 in range(0, height, stride):
            yield slice(r0, min(r0 + tile, height)), slice(c0, c1)


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_windows_equal_plain_reads(tmp_path, layout):
    data = scene_bands(150, 1100 if 'strips' in layout else 170, seed=4,
                       count=3, dtype=np.uint16)
    path = write_tif(tmp_path / 'x.tif', data, **LAYOUTS[layout])
    order = [3, 1, 2]
    with rasterio.open(path) as src:
        cursor = None
        for rows, cols in _windows(src.height, src.width):
            if cursor is None or cursor.cols != cols:
                cursor = BlockRows(src, order, cols)
            out = np.empty((rows.stop - rows.start, cols.stop - cols.start,
                            3), np.uint16)
            cursor.read_into(out, rows)
            want = src.read(order, window=Window.from_slices(rows, cols))
            np.testing.assert_array_equal(out, want.transpose(1, 2, 0))
            # Only the rows of blocks this window reaches are kept.
            assert cursor.rows_held <= out.shape[0] + 2 * cursor.step


def test_whole_width_strips_are_not_widened(tmp_path):
    """A strip wider than MAX_BLOCK is no block to align to: the columns
    read stay the window's, so memory does not grow with the width."""
    data = scene_bands(40, 1500, seed=5, count=2, dtype=np.uint8)
    path = write_tif(tmp_path / 's.tif', data, tiled=False, blockysize=8)
    with rasterio.open(path) as src:
        cursor = BlockRows(src, [1, 2], slice(100, 164))
        out = np.empty((20, 64, 2), np.uint8)
        cursor.read_into(out, slice(10, 30))
        assert (cursor.c0, cursor.c1) == (100, 164)
        np.testing.assert_array_equal(
            out, data[:, 10:30, 100:164].transpose(1, 2, 0))


def test_windows_outside_the_raster_name_the_file(tmp_path):
    data = scene_bands(40, 60, seed=6, count=1, dtype=np.uint8)
    path = write_tif(tmp_path / 'small.tif', data)
    with rasterio.open(path) as src:
        with pytest.raises(ValueError, match=r'small\.tif: columns 50:70'):
            BlockRows(src, [1], slice(50, 70))
        cursor = BlockRows(src, [1], slice(0, 60))
        with pytest.raises(ValueError, match=r'small\.tif: rows 30:50'):
            cursor.read_into(np.empty((20, 60, 1), np.uint8), slice(30, 50))
