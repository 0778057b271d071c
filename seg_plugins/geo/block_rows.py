"""Windows of a raster served from whole rows of its blocks.

GDAL reads a window that covers whole blocks straight into the caller's
buffer; any other window goes through its block cache, de-interleaved into one
cached block per band and interleaved again on the way out, at about twice the
CPU cost whatever the size of GDAL's cache. So the column range of a band of
tiles is widened to the blocks it touches and read one row of blocks at a
time, each row kept only while the windows being read still reach into it.
"""
from typing import Dict, List, Sequence

import numpy as np
from rasterio.windows import Window

MAX_BLOCK = 1024  # a larger block (a whole-width strip) is not aligned to
MIN_ROWS = 64  # rows per read at least, for files of thin strips


def _row_step(block_h: int) -> int:
    """Rows read at a time: whole blocks, at least ``MIN_ROWS``."""
    if block_h > MAX_BLOCK:
        return 256
    return block_h * -(-MIN_ROWS // block_h)


class BlockRows:
    """One column range of a raster, read by rows of whole blocks.

    Memory: the rows of blocks that the current window touches (two for a
    window as tall as a block), each as wide as the column range widened to
    its blocks; not the scene's width or height.

    Args:
        src: An open rasterio dataset (or ``WarpedVRT``).
        indexes (Sequence[int]): 1-based bands, in the order wanted.
        cols (slice): Column range inside the raster.

    Raises:
        ValueError: ``cols`` not inside the raster (naming the file).
    """

    def __init__(self, src, indexes: Sequence[int], cols: slice):
        if not 0 <= cols.start < cols.stop <= src.width:
            raise ValueError(f'{src.name}: columns {cols.start}:{cols.stop} '
                             f'are not inside its width {src.width}')
        self.src, self.indexes, self.cols = src, list(indexes), cols
        block_h, block_w = src.block_shapes[self.indexes[0] - 1]
        self.step = _row_step(block_h)
        if block_w <= MAX_BLOCK:
            self.c0 = cols.start // block_w * block_w
            self.c1 = min(-(-cols.stop // block_w) * block_w, src.width)
        else:  # strips as wide as the raster: no whole blocks to align to
            self.c0, self.c1 = cols.start, cols.stop
        self.dtype = src.dtypes[self.indexes[0] - 1]
        self._rows: Dict[int, np.ndarray] = {}
        self._spare: List[np.ndarray] = []

    @property
    def rows_held(self) -> int:
        """Rows of blocks kept in memory now."""
        return sum(buf.shape[0] for buf in self._rows.values())

    def _load(self, k: int) -> np.ndarray:
        r0 = k * self.step
        h = min(self.step, self.src.height - r0)
        shape = (h, self.c1 - self.c0, len(self.indexes))
        buf = self._spare.pop() if self._spare else None
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, self.dtype)
        # A band-major view of the (h, w, C) buffer: GDAL writes it
        # pixel-interleaved, no transpose afterwards.
        self.src.read(self.indexes,
                      window=Window(self.c0, r0, self.c1 - self.c0, h),
                      out=buf.transpose(2, 0, 1))
        self._rows[k] = buf
        return buf

    def read_into(self, out: np.ndarray, rows: slice) -> None:
        """Copy rows ``rows`` of the column range into ``out``.

        Args:
            out (np.ndarray): (h, w, C) with h the rows' and w the columns'
                extent.
            rows (slice): Row range inside the raster. Rows of blocks it
                does not reach are dropped from memory: windows are
                expected top down.

        Raises:
            ValueError: ``rows`` not inside the raster (naming the file).
        """
        if not 0 <= rows.start < rows.stop <= self.src.height:
            raise ValueError(f'{self.src.name}: rows {rows.start}:{rows.stop} '
                             f'are not inside its height {self.src.height}')
        first, last = rows.start // self.step, (rows.stop - 1) // self.step
        for k in [k for k in self._rows if k < first or k > last]:
            self._spare.append(self._rows.pop(k))
        cols = slice(self.cols.start - self.c0, self.cols.stop - self.c0)
        for k in range(first, last + 1):
            buf = self._rows.get(k)
            if buf is None:
                buf = self._load(k)
            r0, r1 = max(rows.start, k * self.step), min(rows.stop,
                                                       (k + 1) * self.step)
            out[r0 - rows.start:r1 - rows.start] = buf[
                r0 - k * self.step:r1 - k * self.step, cols]
        del self._spare[1:]  # one kept for the next row of blocks
