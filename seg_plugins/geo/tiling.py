"""Overlapping tiles of an image of any size, and the cores that partition it.

Each tile's prediction is kept only in its core (half the overlap trimmed on
inner sides, where context is poorest), so the cores of all tiles cover the
image exactly once. Pure geometry: the in-memory path
(``apis/change_inference.py``), the streamed scene path
(``apis/scene_pipeline.py``) and the chip converter share it.
"""
from typing import Iterable, Iterator, List, Tuple

Window = Tuple[slice, slice, slice, slice]


def axis_windows(length: int, tile: int,
                 overlap: int) -> List[Tuple[int, int, int, int]]:
    """Tiles along one axis.

    Returns:
        list[tuple]: (start, stop, core_start, core_stop) per tile; the cores
        partition [0, length), each boundary in the middle of an overlap.
    """
    if length <= tile:
        return [(0, length, 0, length)]
    stride = tile - overlap
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    bounds = [0] + [(s + tile + n) // 2
                    for s, n in zip(starts, starts[1:])] + [length]
    return [(s, s + tile, bounds[i], bounds[i + 1])
            for i, s in enumerate(starts)]


BAND_TILES = 8  # tile columns per band in tile_windows' order


def tile_windows(height: int, width: int, tile: int,
                 overlap: int) -> Iterator[Window]:
    """2-D tiles: (rows, cols) of the window and (rows, cols) of its core,
    the core given in image coordinates.

    The order is by vertical bands of ``BAND_TILES`` tile columns, top
    down within a band: a reader streaming from a raster then keeps only
    one band's rows of blocks, not rows of the whole scene
    (``geo/block_rows.py``), and reads each block once per band (the
    column of blocks where two bands meet is read by both; keeping it
    would take memory growing with the scene's height)."""
    xs = axis_windows(width, tile, overlap)
    ys = axis_windows(height, tile, overlap)
    for band in range(0, len(xs), BAND_TILES):
        for y0, y1, cy0, cy1 in ys:
            for x0, x1, cx0, cx1 in xs[band:band + BAND_TILES]:
                yield slice(y0, y1), slice(x0, x1), slice(cy0, cy1), slice(
                    cx0, cx1)


def shift_slice(s: slice, offset: int) -> slice:
    """``s`` moved ``offset`` towards 0: image coordinates into those of
    a window that starts at ``offset``."""
    return slice(s.start - offset, s.stop - offset)


def core_slices(window: Window) -> Tuple[slice, slice]:
    """A tile's core inside the tile (rows, cols), from a window of
    :func:`tile_windows`."""
    rows, cols, core_r, core_c = window
    return shift_slice(core_r, rows.start), shift_slice(core_c, cols.start)


def row_chunks(windows: Iterable[Tuple[int, Window]],
               size: int) -> Iterator[List[Tuple[int, Window]]]:
    """Consecutive (index, window) items of :func:`tile_windows` that lie in
    one row of tiles, ``size`` at most per chunk: one band's row, read as
    one window."""
    chunk = []
    for item in windows:
        if chunk and (item[1][0] != chunk[0][1][0] or len(chunk) == size):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk
