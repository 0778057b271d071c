"""Ground areas in m^2 on the ellipsoid, in any CRS: against closed forms
for UTM, Web Mercator and longitude/latitude grids, and through the
polygons and the scene summary."""
import math

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform

from seg_plugins.geo.grid import Grid
from seg_plugins.geo.ground_area import ground_area
from seg_plugins.geo.polygons import write_polygons
from tests.geo.scene_fixture import scene_bands, write_tif

A, E2 = 6378137.0, 0.00669437999014  # WGS84
LAT = 52.0


def radii(lat: float):
    """Meridional and prime-vertical radii of curvature (m)."""
    w = 1 - E2 * math.sin(math.radians(lat))**2
    return A * (1 - E2) / w**1.5, A / w**0.5


def mercator_grid(size=2048, pixel=1.0):
    """EPSG:3857, 1 m nominal pixels, top left at 5 E, 52 N."""
    x, y = transform('EPSG:4326', 'EPSG:3857', [5.0], [LAT])
    return Grid(CRS.from_epsg(3857), Affine(pixel, 0, x[0], 0, -pixel, y[0]),
                size, size)


def test_pixel_areas_match_closed_forms():
    # UTM on its central meridian: lengths shrunk by the scale 0.9996
    utm = ground_area(Grid(CRS.from_epsg(32631),
                           Affine(0.5, 0, 500000, 0, -0.5, 4500000), 64, 64))
    assert utm.pixel(32, 32) == pytest.approx(0.25 / 0.9996**2, rel=1e-5)
    # Web Mercator: x = a * lon, so a metre of x is N cos(lat) / a on the
    # ground east-west and M cos(lat) / a north-south.
    m, n = radii(LAT)
    merc = ground_area(mercator_grid())
    cos = math.cos(math.radians(LAT))
    assert merc.pixel(0, 0) == pytest.approx(m * n * cos**2 / A**2,
                                             rel=1e-4)
    assert merc.pixel(0, 0) < 0.4  # the nominal 1 m^2 is 2.6x too much
    # Longitude / latitude: a 1e-5 degree pixel at 52 N.
    deg = math.radians(1e-5)
    geo = ground_area(Grid(CRS.from_epsg(4326),
                           Affine(1e-5, 0, 5, 0, -1e-5, LAT), 10, 10))
    assert geo.pixel(0, 0) == pytest.approx(m * deg * n * cos * deg,
                                            rel=1e-4)
    assert ground_area(Grid(None, Affine.identity(), 8, 8)) is None


def test_polygons_and_summary_in_web_mercator(tiny, tmp_path):
    """Web Mercator (the web's tiles): each region's area_m2 and the
    scene's changed area are on the ground, not in the CRS's metres."""
    import pyogrio.raw

    from seg_plugins.apis import infer_change_scene
    grid = mercator_grid(size=300)
    profile = dict(crs=grid.crs.to_string(), geotransform=grid.transform)
    a = write_tif(tmp_path / 'a.tif', scene_bands(300, 300, 1), **profile)
    b = write_tif(tmp_path / 'b.tif', scene_bands(300, 300, 2), **profile)
    s = infer_change_scene(tiny[0], str(a), str(b), str(tmp_path / 'c.tif'),
                           tile=64, overlap=16,
                           polygons=str(tmp_path / 'c.gpkg'))
    per_px = ground_area(grid).pixel(150, 150)
    assert 0 < s['changed_pixels'] < 300 * 300
    assert s['pixel_area_m2'] == pytest.approx(per_px)
    assert s['changed_area_m2'] == pytest.approx(
        per_px * s['changed_pixels'], rel=1e-3)
    _, _, _, (pixels, area) = pyogrio.raw.read(tmp_path / 'c.gpkg')
    np.testing.assert_allclose(area, pixels * per_px, rtol=1e-3)
    # --min-area in m^2 on the ground: 10 m^2 is 26 pixels here, not 10
    n = write_polygons(str(tmp_path / 'c.tif'), str(tmp_path / 'big.gpkg'),
                       min_area=10.0)
    assert n == int((pixels * per_px >= 10).sum()) < (pixels >= 10).sum()
