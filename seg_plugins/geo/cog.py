"""Single-band uint8 rasters written window by window, then published as
Cloud-Optimised GeoTIFFs under their final name only once complete.

GDAL's COG driver only copies a finished dataset, so the windows go to a
tiled GeoTIFF beside the output (``<out>.partial.tif``, uncompressed: tile
cores do not align with its blocks, and a compressed block written in parts
is decompressed and recompressed each time, which made a 4096^2 scene run
~15% slower in benchmark_scene.py; it costs one byte per pixel of disk
until the COG is written). The overview levels are built beside it
(``overviews.py``: in numpy, in about half the time the COG driver takes
for a masked band), and the COG driver copies both into
``<out>.partial``, which is renamed to ``<out>`` (atomic on one file
system). A run killed at any point leaves at most ``<out>.partial*``
files, removed by the next run, never a file under the final name.
"""
import glob
import os
import os.path as osp
from typing import Iterable, Optional

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window

from .grid import Grid
from .overviews import build_levels, overview_sizes, vrt_with_overviews

BLOCK = 256  # tiles of the temporary GeoTIFF
COG_BLOCK = 512  # the COG driver's default
# This pass cannot overlap the model, so it takes every core. Level 3, not
# GDAL's 6: a 4096^2 probability COG in 0.32 s, not 0.84 s, for 9% more
# bytes (2.38/2.18 MB).
DEFLATE_LEVEL = 3
MAX_STRIP = 4096  # widest strip of windows gathered into one write


def check_outputs(paths: Iterable[Optional[str]], overwrite: bool) -> None:
    """Refuse existing outputs unless ``overwrite``; before any work is
    done, so a refused run changes nothing.

    Raises:
        FileExistsError: naming the first existing path.
    """
    for path in paths:
        if path and osp.exists(path) and not overwrite:
            raise FileExistsError(
                f'{path} exists: pass overwrite=True (--overwrite) to '
                'replace it')


def _remove(path: str) -> None:
    if osp.exists(path):
        os.remove(path)


class COGWriter:
    """One uint8 band on ``grid``, written window by window.

    Args:
        path (str): Final output path.
        grid (Grid): Output grid; without a CRS the file is written with
            no georeferencing.
        nodata (int, optional): Nodata value of the band.
        masked (bool): Keep validity in an internal mask band instead of
            a nodata value (for data using all 256 values).
        resampling (str): Of the overviews: 'nearest' for classes,
            'average' for continuous values (see ``overviews.halve``).
    """

    def __init__(self, path: str, grid: Grid, nodata: Optional[int] = None,
                 masked: bool = False, resampling: str = 'nearest'):
        self.path = str(path)
        self.tmp = self.path + '.partial.tif'
        self.partial = self.path + '.partial'
        self.masked = masked
        self.resampling = resampling
        self._shape = (grid.height, grid.width)
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        self._remove_partials()  # from a killed run
        profile = dict(
            driver='GTiff', dtype='uint8', count=1, width=grid.width,
            height=grid.height, nodata=nodata, tiled=True,
            blockxsize=BLOCK, blockysize=BLOCK, bigtiff='if_safer')
        if grid.crs is not None:
            profile.update(crs=grid.crs, transform=grid.transform)
        elif grid.transform != Affine.identity():
            profile.update(transform=grid.transform)
        self._dst = rasterio.open(self.tmp, 'w', **profile)
        self._pending = []  # (data, valid) of the strip being gathered
        self._rows = self._cols = None

    def write(self, rows: slice, cols: slice, data: np.ndarray,
              valid: Optional[np.ndarray] = None) -> None:
        """Write ``data`` (h, w) uint8 at (rows, cols); with ``masked``,
        ``valid`` (h, w) bool marks the valid pixels.

        Windows on the same rows, each starting where the last one
        stopped, are gathered and written as one strip (up to
        ``MAX_STRIP`` wide): GDAL took 1.0 s of CPU for the 361 tile cores
        of a 4096^2 scene (two outputs and a mask), 0.09 s for the same
        pixels as 57 strips. ``data`` and ``valid`` must not change
        afterwards.
        """
        if self._pending and (rows != self._rows or
                              cols.start != self._cols.stop or
                              cols.stop - self._cols.start > MAX_STRIP):
            self._flush()
        if not self._pending:
            self._rows, self._cols = rows, cols
        self._cols = slice(self._cols.start, cols.stop)
        self._pending.append((data, valid))

    def _flush(self) -> None:
        if not self._pending:
            return
        rows, cols = self._rows, self._cols
        window = Window(cols.start, rows.start, cols.stop - cols.start,
                        rows.stop - rows.start)
        self._dst.write(np.hstack([d for d, _ in self._pending]), 1,
                        window=window)
        if self.masked:
            valid = np.hstack([v for _, v in self._pending])
            self._dst.write_mask(valid.astype(np.uint8) * 255,
                                 window=window)
        self._pending = []

    def commit(self) -> str:
        """Convert to a COG with overviews and move it to its final name.

        Returns:
            str: the final path.
        """
        self._flush()
        self._dst.close()
        count = len(overview_sizes(*self._shape, COG_BLOCK))
        levels = [f'{self.partial}.ovr{i + 1}.tif' for i in range(count)]
        masks = ([f'{self.partial}.msk{i + 1}.tif' for i in range(count)]
                 if self.masked else None)
        build_levels(self.tmp, levels, masks, self.resampling)
        vrt = self.partial + '.vrt'
        vrt_with_overviews(self.tmp, vrt, levels, masks)
        # FORCE_USE_EXISTING: the levels above or none, never GDAL's own
        # (a level missing here shows in the tests, not as a slow commit).
        rasterio.shutil.copy(
            vrt, self.partial, driver='COG', compress='deflate',
            level=DEFLATE_LEVEL, num_threads='all_cpus',
            blocksize=COG_BLOCK, overviews='force_use_existing',
            bigtiff='if_safer')
        os.replace(self.partial, self.path)
        self._remove_partials()
        return self.path

    def abort(self) -> None:
        """Remove what was written; the final name is untouched."""
        if not self._dst.closed:
            self._dst.close()
        self._remove_partials()

    def _remove_partials(self) -> None:
        for path in glob.glob(glob.escape(self.partial) + '*'):
            _remove(path)
