"""An area of interest (AOI): the window of date A's grid that covers a
vector file's features, and the dates read through it.

The AOI is any vector file OGR reads (GeoJSON, GeoPackage, Shapefile,
local or remote) in any CRS: its features are transformed into A's CRS
and their bounds, widened to whole pixels, are the window. The scene is
then run on that rectangle (pixels inside it but outside the features
are not masked), through VRTs of the window (``band_stack.Windowed``):
nothing is copied, only the window's blocks are read.
"""
from typing import Tuple

import numpy as np
import rasterio
from rasterio.windows import Window, from_bounds

from .band_stack import Windowed
from .grid import grid_of, open_raster, same_grid
from .remote import gdal_path, remote_config


def aoi_bounds(aoi: str, crs) -> Tuple[float, float, float, float]:
    """(west, south, east, north) of the features of ``aoi`` in ``crs``;
    a file without a CRS is taken as WGS84 (RFC 7946 GeoJSON).

    Raises:
        ValueError: naming ``aoi`` when it cannot be read or has no
            geometry.
    """
    import pyogrio
    import shapely
    from rasterio.warp import transform_geom
    try:
        meta, _, wkb, _ = pyogrio.raw.read(gdal_path(aoi), read_geometry=True,
                                           columns=[])
    except Exception as e:  # pyogrio's errors: missing, not a vector file
        text = (str(e).splitlines() or [repr(e)])[0]
        text = text.split(': ', 1)[-1] if aoi in text else text
        text = text.split('; ')[0]  # not OGR's hint on naming a driver
        raise ValueError(f'cannot read the AOI {aoi}: {text}') from None
    geoms = [g for g in shapely.from_wkb(wkb) if g is not None and
             not g.is_empty]
    if not geoms:
        raise ValueError(f'the AOI {aoi} has no geometry')
    src_crs = meta.get('crs') or 'EPSG:4326'
    bounds = np.array([shapely.geometry.shape(transform_geom(
        src_crs, crs, shapely.geometry.mapping(g))).bounds for g in geoms])
    return (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(),
            bounds[:, 3].max())


def aoi_window(date_a, aoi: str) -> Window:
    """The window of A's grid (whole pixels) covering the features of the
    vector file ``aoi``, clipped to A.

    Args:
        date_a: Date A as ``open_raster`` takes it (a path or URL, band
            files, a STAC date).
        aoi (str): Vector file (path or URL).

    Raises:
        ValueError: A has no CRS, the AOI cannot be read, or it does not
            overlap A (naming both, with their bounds in A's CRS).
    """
    with rasterio.Env(**remote_config()), open_raster(date_a) as src:
        if src.crs is None:
            raise ValueError(f'--aoi needs a CRS in date A; {date_a} has '
                             'none')
        crs, transform = src.crs, src.transform
        height, width, scene = src.height, src.width, src.bounds
    bounds = aoi_bounds(aoi, crs)
    window = from_bounds(*bounds, transform=transform)
    # Widened to whole pixels (a pixel partly inside is in), then clipped.
    c0 = max(int(np.floor(window.col_off + 1e-9)), 0)
    r0 = max(int(np.floor(window.row_off + 1e-9)), 0)
    c1 = min(int(np.ceil(window.col_off + window.width - 1e-9)), width)
    r1 = min(int(np.ceil(window.row_off + window.height - 1e-9)), height)
    if c1 <= c0 or r1 <= r0:
        box = ', '.join(f'{v:.10g}' for v in bounds)
        raise ValueError(
            f'the AOI {aoi} ({box} in {crs}) does not overlap date A '
            f'{date_a} ({", ".join(f"{v:.10g}" for v in scene)})')
    return Window(c0, r0, c1 - c0, r1 - r0)


def aoi_dates(date_a, date_b, aoi: str) -> tuple:
    """Dates A and B read through the AOI's window of A's grid
    (:func:`aoi_window`), for ``infer_change_scene``: B through the same
    window when it is on A's grid, whole otherwise (``align`` then
    resamples it onto the window).

    Returns:
        tuple: A and B as :class:`~seg_plugins.geo.band_stack.Windowed`
        dates (B as given when not on A's grid); A's ``window`` is the
        AOI's.
    """
    window = aoi_window(date_a, aoi)
    with rasterio.Env(**remote_config()), open_raster(date_a) as a, \
            open_raster(date_b) as b:
        on_a = same_grid(grid_of(a), grid_of(b))
    return (Windowed(date_a, window),
            Windowed(date_b, window) if on_a else date_b)
