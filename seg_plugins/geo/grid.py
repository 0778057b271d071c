"""Opening rasters and comparing their pixel grids (CRS, transform, size).

Two dates are co-registered when every pixel (row, col) of one covers the
same ground as (row, col) of the other: same CRS, same geotransform (to a
small fraction of a pixel) and the same size.
"""
from typing import NamedTuple, Optional

import rasterio
from affine import Affine
from rasterio.errors import RasterioIOError

# Offsets may differ by this fraction of a pixel, pixel sizes by this
# relative amount: what float round-off in a file's metadata produces.
_PIXEL_TOL = 1e-3
_SCALE_TOL = 1e-6


class GridMismatchError(ValueError):
    """Two rasters that should share a grid do not."""


class Grid(NamedTuple):
    crs: Optional[rasterio.crs.CRS]
    transform: Affine
    width: int
    height: int


def open_raster(path):
    """``rasterio.open`` of any location GDAL reads (``remote.py``), or of
    a date given as several files (``band_stack.py``), with an error that
    names the file or URL (and the HTTP status).

    Raises:
        ValueError: if ``path`` does not exist or GDAL cannot read it.
    """
    from .band_stack import date_files, date_source
    from .remote import read_error
    files = date_files(path)
    try:
        return rasterio.open(date_source(path))
    except RasterioIOError as e:
        raise ValueError(read_error(files[0] if len(files) == 1 else
                                    ','.join(files), e)) from None


def grid_of(src) -> Grid:
    """The grid of an open rasterio dataset."""
    return Grid(src.crs, src.transform, src.width, src.height)


def describe_grid(grid: Grid) -> str:
    """``EPSG:32631, 1000x800 px (WxH), pixel 10 x -10 at (500000, 4e6)``."""
    t = grid.transform
    crs = grid.crs.to_string() if grid.crs else 'no CRS'
    rot = f', rotation ({t.b:g}, {t.d:g})' if t.b or t.d else ''
    return (f'{crs}, {grid.width}x{grid.height} px (WxH), pixel '
            f'{t.a:g} x {t.e:g} at ({t.c:.10g}, {t.f:.10g}){rot}')


def same_grid(a: Grid, b: Grid) -> bool:
    """Whether ``a`` and ``b`` are the same pixel grid."""
    if (a.width, a.height) != (b.width, b.height) or a.crs != b.crs:
        return False
    ta, tb = a.transform, b.transform
    pixel = max(abs(ta.a), abs(ta.e), abs(ta.b), abs(ta.d))
    if any(abs(x - y) > _SCALE_TOL * pixel
           for x, y in ((ta.a, tb.a), (ta.b, tb.b), (ta.d, tb.d),
                        (ta.e, tb.e))):
        return False
    return (abs(ta.c - tb.c) <= _PIXEL_TOL * pixel
            and abs(ta.f - tb.f) <= _PIXEL_TOL * pixel)


def check_same_grid(src_a, src_b, name_a: Optional[str] = None,
                    name_b: Optional[str] = None, hint: str = '') -> None:
    """Raise one error naming both files and both grids unless the open
    datasets ``src_a`` and ``src_b`` share a grid.

    Raises:
        GridMismatchError: the rasters are not co-registered; ``hint`` is
            appended to the message.
    """
    grid_a, grid_b = grid_of(src_a), grid_of(src_b)
    if same_grid(grid_a, grid_b):
        return
    name_a = name_a or src_a.name
    name_b = name_b or src_b.name
    raise GridMismatchError(
        f'{name_a} and {name_b} are not on the same pixel grid:\n'
        f'  {name_a}: {describe_grid(grid_a)}\n'
        f'  {name_b}: {describe_grid(grid_b)}' + (f'\n{hint}' if hint else ''))
