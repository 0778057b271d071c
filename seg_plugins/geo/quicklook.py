"""A small picture of a change map over its scene, read from overviews."""
import math
import os
import os.path as osp
from typing import Optional

import numpy as np
from PIL import Image
from rasterio.enums import ColorInterp, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from .grid import grid_of, open_raster, same_grid
from .nodata import zero_nodata

RED = np.array([255, 0, 0], np.float32)
NODATA_GREY = 40
# The background's grey levels: from nodata's up, never as bright as red.
MUTED_LOW, MUTED_HIGH = NODATA_GREY, 190
STRIP_ROWS = 512  # source rows read at a time for the background


def _display_bands(src):
    """Bands tagged red, green, blue, else the first three (or band 1)."""
    interp = list(src.colorinterp)
    tagged = [interp.index(c) + 1 for c in (ColorInterp.red,
                                            ColorInterp.green,
                                            ColorInterp.blue) if c in interp]
    if len(tagged) == 3:
        return tagged
    return [1, 2, 3] if src.count >= 3 else [1]


def _stretch(img: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(C, h, w) any dtype -> (h, w, C) float32 0-255, 2-98 % per band."""
    out = np.zeros(img.shape, np.float32)
    for i, band in enumerate(img.astype(np.float32)):
        if valid.any():
            lo, hi = np.percentile(band[valid], (2, 98))
            out[i] = np.clip((band - lo) / max(hi - lo, 1e-6), 0, 1) * 255
    return out.transpose(1, 2, 0)


def _muted(img: np.ndarray) -> np.ndarray:
    """(h, w, C) float 0-255, one band or three -> (h, w, 3) grey between
    ``MUTED_LOW`` and ``MUTED_HIGH``: the scene stays readable and no
    pixel of it looks like a change."""
    grey = img.mean(axis=2, keepdims=True)
    return np.repeat(MUTED_LOW + grey * (MUTED_HIGH - MUTED_LOW) / 255, 3,
                     axis=2)


def _bins(size: int, out: int) -> np.ndarray:
    """Start of each of ``out`` near-equal bins over ``size`` pixels."""
    return (np.arange(out) * size) // out


def _averaged(src, bands, shape, strip_rows: int = STRIP_ROWS
              ) -> np.ndarray:
    """``bands`` of ``src`` averaged down to ``shape``: (C, h, w) float64.

    Read at full resolution one strip of rows at a time and summed in
    numpy: GDAL's own decimated reads of a raster without overviews go
    through its block cache pixel by pixel, many times slower than reading
    it in strips. Memory is one strip of about ``strip_rows`` rows.
    """
    h, w = shape
    row_starts, col_starts = _bins(src.height, h), _bins(src.width, w)
    col_counts = np.diff(np.append(col_starts, src.width))
    out = np.empty((len(bands), h, w))
    per_strip = max(1, strip_rows * h // src.height)
    for first in range(0, h, per_strip):
        last = min(first + per_strip, h)
        top = row_starts[first]
        bottom = row_starts[last] if last < h else src.height
        strip = src.read(bands, window=Window(0, top, src.width,
                                              bottom - top))
        zero_nodata(strip)  # one NaN would make the whole stretch NaN
        sums = np.add.reduceat(strip, row_starts[first:last] - top, axis=1,
                               dtype=np.float64)
        sums = np.add.reduceat(sums, col_starts, axis=2)
        rows = np.diff(np.append(row_starts[first:last], bottom))
        out[:, first:last] = sums / rows[:, None] / col_counts
    return out


def write_quicklook(change_path: str, out_png: str,
                    image_path: Optional[str] = None, max_side: int = 1024,
                    alpha: float = 0.8,
                    classes_path: Optional[str] = None) -> str:
    """Changed pixels in red over the scene in grey, at most ``max_side``
    pixels a side; nodata dark grey. With ``classes_path`` (a class raster
    on the change map's grid with a colour table, e.g. a semantic change
    run's to-class map) changed pixels take its class's colour instead.

    The change map is read decimated, which GDAL serves from the COG's
    overviews. ``image_path`` (usually date B) is the background, averaged
    down to the same size (:func:`_averaged`; resampled onto the change
    map's grid if it is on another one) and shown in muted grey: read with
    nearest, the demo's textured scene came out as coloured noise in which
    the red changes could not be seen, and real scenes alias the same way.
    Without it the background is black.

    Returns:
        str: ``out_png``.
    """
    with open_raster(change_path) as change:
        scale = max(change.width, change.height) / max_side
        if scale > 1:
            shape = (max(1, math.ceil(change.height / scale)),
                     max(1, math.ceil(change.width / scale)))
        else:
            shape = (change.height, change.width)
        cmap = change.read(1, out_shape=shape,
                           resampling=Resampling.nearest)
        valid = cmap != 255
        img = np.zeros(shape + (3, ), np.float32)
        if image_path:
            with open_raster(image_path) as src:
                bands = _display_bands(src)
                if same_grid(grid_of(src), grid_of(change)):
                    view = src
                else:
                    view = WarpedVRT(src, crs=change.crs,
                                     transform=change.transform,
                                     width=change.width,
                                     height=change.height)
                with view:
                    data = _averaged(view, bands, shape)
            img = _muted(_stretch(data, valid))
    img[~valid] = NODATA_GREY
    hit = cmap == 1
    colour = RED
    if classes_path:
        with open_raster(classes_path) as src:
            table = np.zeros((256, 3), np.float32)
            for value, rgba in src.colormap(1).items():
                table[value] = rgba[:3]
            colour = table[src.read(1, out_shape=shape,
                                    resampling=Resampling.nearest)[hit]]
    img[hit] = (1 - alpha) * img[hit] + alpha * colour
    # Saved beside it and renamed: a killed run leaves no half-written
    # picture under the final name (``tools/infer.py --resume``
    # takes an output that exists for a finished one).
    stem, ext = osp.splitext(out_png)
    partial = f'{stem}.partial{ext}'
    Image.fromarray(img.round().astype(np.uint8)).save(partial)
    os.replace(partial, out_png)
    return out_png
