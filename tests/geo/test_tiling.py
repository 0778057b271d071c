import itertools

import numpy as np
import pytest

from seg_plugins.geo.tiling import (
    BAND_TILES,
    axis_windows,
    core_slices,
    row_chunks,
    shift_slice,
    tile_windows,
)


@pytest.mark.parametrize('length,tile,overlap', [
    (100, 256, 32),  # shorter than a tile: one window, all core
    (256, 256, 32),
    (257, 256, 32),  # one pixel more: the last tile is pulled back
    (1000, 256, 32),
    (1000, 64, 0),
    (97, 16, 15),
])
def test_axis_windows_cores_partition_the_axis(length, tile, overlap):
    windows = axis_windows(length, tile, overlap)
    cover = np.zeros(length, int)
    for start, stop, core_start, core_stop in windows:
        assert 0 <= start <= core_start < core_stop <= stop <= length
        assert stop - start == min(tile, length)
        cover[core_start:core_stop] += 1
    np.testing.assert_array_equal(cover, 1)
    # Neighbours overlap by at least ``overlap``; the core boundary lies in
    # the middle of the overlap, half of it trimmed from each side.
    for (_, e0, _, c0), (s1, _, c1, _) in zip(windows, windows[1:]):
        assert e0 - s1 >= overlap and c0 == c1 == (e0 + s1) // 2


def test_tile_windows_order_by_bands_of_columns_and_cover_once():
    height, width, tile, overlap = 150, 40 * (BAND_TILES + 2), 40, 8
    windows = list(tile_windows(height, width, tile, overlap))
    xs, ys = (axis_windows(n, tile, overlap) for n in (width, height))
    assert len(windows) == len(xs) * len(ys) and len(xs) > BAND_TILES
    cover = np.zeros((height, width), int)
    for _, _, core_r, core_c in windows:
        cover[core_r, core_c] += 1
    np.testing.assert_array_equal(cover, 1)
    # The first band: BAND_TILES columns, top down; then the next band.
    first = windows[:BAND_TILES * len(ys)]
    assert {w[1].start for w in first} == {x[0] for x in xs[:BAND_TILES]}
    assert [w[0].start for w in first[::BAND_TILES]] == [y[0] for y in ys]
    assert windows[len(first)][1].start == xs[BAND_TILES][0]


def test_core_slices_are_the_core_inside_the_tile():
    image = np.arange(90 * 70).reshape(90, 70)
    for window in tile_windows(90, 70, 32, 10):
        rows, cols, core_r, core_c = window
        tile = image[rows, cols]
        np.testing.assert_array_equal(tile[core_slices(window)],
                                      image[core_r, core_c])
    assert shift_slice(slice(12, 30), 10) == slice(2, 20)


def test_row_chunks_split_rows_and_long_rows():
    windows = list(enumerate(tile_windows(100, 40 * 5, 40, 0)))
    chunks = list(row_chunks(iter(windows), 2))
    assert list(itertools.chain(*chunks)) == windows
    for chunk in chunks:
        assert 1 <= len(chunk) <= 2
        assert len({w[0].start for _, w in chunk}) == 1  # one row of tiles
    # 5 columns in one band: each of the 3 rows is cut into 2 + 2 + 1.
    assert [len(c) for c in chunks] == [2, 2, 1] * 3
