"""Two dates of a scene read window by window on date A's grid."""
import warnings
from concurrent.futures import Executor
from typing import List, Optional, Sequence, Tuple

import numpy as np
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from .bands import loader_band_order
from .block_rows import BlockRows
from .grid import check_same_grid, grid_of, open_raster
from .nodata import all_valid, zero_nodata

ALIGN_HINT = ('Pass align=True (tools/infer.py --align) to resample B onto '
              "A's grid (bilinear).")


_PIXEL_WORDS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _not_all_equal(img: np.ndarray, value: int) -> np.ndarray:
    """(h, w) bool: some band of ``img`` (h, w, C), pixel-interleaved,
    differs from ``value``.

    Where a pixel's bands fill 1, 2, 4 or 8 bytes (4-band uint16: one
    uint64) it is compared as one word with ``value`` repeated: one
    comparison per pixel instead of one per band, and no (h, w, C) bool
    temporary as numpy's ``any`` along the band axis needs.
    """
    word = _PIXEL_WORDS.get(img.shape[2] * img.itemsize)
    if word is not None and img.strides[2] == img.itemsize:
        pixels = img.view(word)[..., 0]
        return pixels != np.full(img.shape[2], value, img.dtype).view(word)[0]
    out = img[..., 0] != value
    for c in range(1, img.shape[2]):
        out |= img[..., c] != value
    return out


class RasterPair:
    """Date A and date B, read in windows of A's grid.

    Without ``align`` the two must be co-registered (same CRS, transform
    and size). With it, B is resampled onto A's grid on the fly through a
    GDAL warped VRT (bilinear): only the windows read are warped. Pixels
    outside B's footprint are then nodata.

    A pixel is valid in a date when any selected band is valid there
    (GDAL's masks: nodata value, alpha band or internal mask; in float
    data, a finite value); it is valid for the pair when valid in both
    dates. A band's value that is not valid reads as 0 (``nodata.py``).

    Args:
        path_a (str): Date A; its grid is the output grid.
        path_b (str): Date B.
        bands (list[int], optional): 1-based bands to read from both
            dates. Default: all.
        align (bool): Resample B onto A's grid. Default: False.

    Raises:
        ValueError: a file is not a readable raster, a band is missing, or
            (``GridMismatchError``) the grids differ without ``align``.
    """

    def __init__(self, path_a: str, path_b: str,
                 bands: Optional[Sequence[int]] = None, align: bool = False):
        self.paths = (str(path_a), str(path_b))  # for messages
        self._dates = (path_a, path_b)  # band files or STAC dates too
        self._open: List = []
        try:
            self._setup(bands, align)
        except BaseException:
            self.close()
            raise

    def _setup(self, bands, align):
        src_a, src_b = (self._keep(open_raster(p)) for p in self._dates)
        for path, src in zip(self.paths, (src_a, src_b)):
            if bands and max(bands) > src.count:
                raise ValueError(
                    f'{path} has {src.count} bands; bands '
                    f'{",".join(map(str, bands))} asks for band '
                    f'{max(bands)}')
        if src_a.count != src_b.count and not bands:
            raise ValueError(
                f'{self.paths[0]} has {src_a.count} bands but '
                f'{self.paths[1]} has {src_b.count}: select the same bands '
                'of both with bands= (--bands)')
        self.bands = list(bands) if bands else list(range(1,
                                                          src_a.count + 1))
        if src_a.crs is None:
            warnings.warn(f'{self.paths[0]} has no CRS: the outputs are '
                          'written without georeferencing (pixel '
                          'coordinates)', stacklevel=3)
        if align:
            if src_a.crs is None or src_b.crs is None:
                raise ValueError(
                    f'align needs a CRS in both dates to resample B onto A: '
                    f'{self.paths[0]}: {src_a.crs}, {self.paths[1]}: '
                    f'{src_b.crs}')
            # Without a nodata value an alpha band tells the warped VRT's
            # masks where B's footprint ends.
            src_b = self._keep(WarpedVRT(
                src_b, crs=src_a.crs, transform=src_a.transform,
                width=src_a.width, height=src_a.height,
                resampling=Resampling.bilinear,
                add_alpha=src_b.nodata is None))
        else:
            check_same_grid(src_a, src_b, *self.paths, hint=ALIGN_HINT)
        self.src_a, self.src_b = src_a, src_b
        self.grid = grid_of(src_a)
        self.dtypes = tuple(src.dtypes[self.bands[0] - 1]
                            for src in (src_a, src_b))
        self._order = loader_band_order(self.bands)
        self._masks = [self._mask_rule(src, dtype)
                       for src, dtype in zip((src_a, src_b), self.dtypes)]
        self._cursors: List[Optional[BlockRows]] = [None, None]

    def _mask_rule(self, src, dtype: str):
        """How a window's validity is found in ``src``: 'all' (no mask,
        non-finite floats aside), an integer nodata value compared in
        numpy, or None for GDAL's masks (alpha, internal or float nodata).

        GDAL derives a nodata mask by reading the window a second time and
        comparing (two thirds of the reading time); comparing the data
        already read gives the same mask, exactly for integers (tested).
        """
        if all_valid(src, self.bands):
            return 'all'
        flags = [src.mask_flag_enums[b - 1] for b in self.bands]
        dtype = np.dtype(dtype)
        if (all(f == [MaskFlags.nodata] for f in flags)
                and dtype.kind in 'ui' and src.nodata is not None
                and float(src.nodata).is_integer()
                and np.iinfo(dtype).min <= src.nodata <= np.iinfo(dtype).max):
            return int(src.nodata)
        return None

    def _keep(self, src):
        self._open.append(src)
        return src

    @property
    def height(self) -> int:
        return self.grid.height

    @property
    def width(self) -> int:
        return self.grid.width

    @property
    def channels(self) -> int:
        """Bands read per date."""
        return len(self.bands)

    def check_channels(self, expected: Optional[int],
                       source: str = 'the model') -> None:
        """Raise unless the bands read per date are ``expected``.

        Raises:
            ValueError: naming the file, its band count and ``source``.
        """
        if expected is None or expected == self.channels:
            return
        chosen = (f' (bands {",".join(map(str, self.bands))} selected)'
                  if self.bands != list(range(1, self.channels + 1)) else '')
        raise ValueError(
            f'{self.paths[0]} gives {self.channels} bands per date{chosen} '
            f'but {source} expects {expected} input channels per image: '
            'select that many with bands= (--bands 1,2,3), or use a config '
            'made for this imagery')

    def read(self, rows: slice, cols: slice, pool: Optional[Executor] = None
             ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One window of both dates; parts outside the scene are zeros and
        invalid.

        Pixels come from whole rows of blocks (``block_rows.py``), kept
        for the next call with the same columns: windows read top down in
        one column range (a band of tiles) read each block once.

        Args:
            rows (slice): Row range in A's grid (may leave the scene).
            cols (slice): Column range.
            pool (Executor, optional): Read the two dates at once in it
                (GDAL decodes without the GIL), B even where A turns out
                to be nodata throughout. Without it, one after the other,
                and B is not read where A is nodata throughout (zeros).

        Returns:
            tuple: A and B (h, w, C) in the loader's channel order (see
            ``bands.py``), values as stored but 0 where a band holds no
            data (``nodata.py``); valid (h, w) bool.
        """
        h, w = rows.stop - rows.start, cols.stop - cols.start
        r0, r1 = max(rows.start, 0), min(rows.stop, self.height)
        c0, c1 = max(cols.start, 0), min(cols.stop, self.width)
        inside = (slice(r0 - rows.start, r1 - rows.start),
                  slice(c0 - cols.start, c1 - cols.start))
        imgs = [np.zeros((h, w, self.channels), dtype)
                for dtype in self.dtypes]
        valid = np.zeros((h, w), bool)
        if r1 <= r0 or c1 <= c0:  # wholly outside
            return imgs[0], imgs[1], valid
        valid[inside] = True

        def date(i: int) -> Optional[np.ndarray]:
            """Read date ``i`` into ``imgs[i]``, values without data set
            to 0 (``nodata.py``); its valid (h, w) inside the scene, None
            where every pixel is."""
            img, rule = imgs[i][inside], self._masks[i]
            self._cursor(i, slice(c0, c1)).read_into(img, slice(r0, r1))
            if rule is None:
                src = (self.src_a, self.src_b)[i]
                masks = src.read_masks(self._order, window=Window(
                    c0, r0, c1 - c0, r1 - r0))
                return zero_nodata(img, masks.transpose(1, 2, 0)).any(2)
            if rule == 'all':
                kept = zero_nodata(img)  # NaN in float data
                return None if kept is None else kept.any(2)
            valid = _not_all_equal(img, rule)
            if rule != 0:  # per band, as GDAL's masks are
                img[img == rule] = 0
            return valid

        if pool is not None:
            masks = list(pool.map(date, (0, 1)))
        else:
            masks = [date(0)]
            if masks[0] is None or masks[0].any():
                masks.append(date(1))  # else A is nodata: B cannot matter
        for mask in masks:
            if mask is not None:
                valid[inside] &= mask
        return imgs[0], imgs[1], valid

    def _cursor(self, i: int, cols: slice) -> BlockRows:
        """Date ``i``'s rows of blocks over ``cols`` (new ones when the
        columns change)."""
        cursor = self._cursors[i]
        if cursor is None or cursor.cols != cols:
            src = (self.src_a, self.src_b)[i]
            cursor = self._cursors[i] = BlockRows(src, self._order, cols)
        return cursor

    def close(self) -> None:
        self._cursors = [None, None]
        for src in reversed(self._open):
            src.close()
        self._open = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
