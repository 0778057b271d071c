"""Ground area of pixels, in m^2, whatever the grid's CRS.

A CRS's own units can mislead: Web Mercator (EPSG:3857, in which web map
tiles and many basemaps come) stretches lengths by about 1/cos(latitude),
so at 52 degrees N a pixel's nominal area is 2.6 times its area on the
ground; a geographic CRS has degrees. So pixels are measured in a Lambert
azimuthal equal-area projection centred on the scene (WGS84 ellipsoid),
as a GIS measures areas on the ellipsoid; in UTM this differs from the
nominal area by at most 0.1% (the scale factor). A pixel's area varies
slowly across a scene: it is sampled every ``step`` pixels, with one
coordinate transformation for the whole lattice.
"""
from typing import Optional

import numpy as np
from rasterio.crs import CRS
from rasterio.errors import RasterioError
from rasterio.warp import transform as warp_transform

STEP = 512  # pixels between samples


class GroundArea:
    """m^2 of a pixel anywhere on a grid.

    Args:
        grid: A ``geo.grid.Grid`` (or anything with ``crs``, ``transform``,
            ``width``, ``height``) whose CRS is not None.
        step (int): Pixels between the sampled pixels.

    Raises:
        ValueError: when the CRS cannot be transformed to longitude and
            latitude (e.g. a local engineering CRS).
    """

    def __init__(self, grid, step: int = STEP):
        self.step = step
        rows = np.minimum(np.arange(0, grid.height, step) + step // 2,
                          grid.height - 1)
        cols = np.minimum(np.arange(0, grid.width, step) + step // 2,
                          grid.width - 1)
        r, c = np.meshgrid(rows, cols, indexing='ij')
        # Corners of each sampled pixel, counter-clockwise in pixel space.
        dc = np.array([0, 1, 1, 0])
        dr = np.array([0, 0, 1, 1])
        px_c = (c[..., None] + dc).ravel().astype(np.float64)
        px_r = (r[..., None] + dr).ravel().astype(np.float64)
        t = grid.transform
        x = t.a * px_c + t.b * px_r + t.c
        y = t.d * px_c + t.e * px_r + t.f
        try:
            lon, lat = warp_transform(
                grid.crs, 'EPSG:4326',
                [t.c + t.a * grid.width / 2 + t.b * grid.height / 2],
                [t.f + t.d * grid.width / 2 + t.e * grid.height / 2])
            laea = CRS.from_proj4(
                f'+proj=laea +lat_0={lat[0]:.9f} +lon_0={lon[0]:.9f} '
                '+ellps=WGS84 +units=m +no_defs')
            ex, ey = (np.asarray(v).reshape(r.shape + (4, ))
                      for v in warp_transform(grid.crs, laea, x, y))
        except (RasterioError, ValueError) as e:
            raise ValueError(f'cannot measure ground areas in {grid.crs}: '
                             f'{e}') from None
        # Shoelace formula over each quadrilateral.
        self._areas = 0.5 * np.abs(
            (ex * np.roll(ey, -1, axis=-1) -
             np.roll(ex, -1, axis=-1) * ey).sum(-1))

    def pixel(self, row: float, col: float) -> float:
        """m^2 of the pixel at (row, col) (the nearest sampled one)."""
        i = min(max(int(row) // self.step, 0), self._areas.shape[0] - 1)
        j = min(max(int(col) // self.step, 0), self._areas.shape[1] - 1)
        return float(self._areas[i, j])


def ground_area(grid, step: int = STEP) -> Optional[GroundArea]:
    """A :class:`GroundArea` of ``grid``, or None when it has no CRS or one
    that cannot be placed on the Earth."""
    if grid.crs is None:
        return None
    try:
        return GroundArea(grid, step)
    except ValueError:
        return None
