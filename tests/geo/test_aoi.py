"""An AOI (vector file, any CRS) limits a scene run to a window of A's
grid: the window's pixels, georeferenced, and the change map the full
run gives there wherever both runs take a pixel from the same tile."""
import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform_geom
from rasterio.windows import Window

from seg_plugins.apis import infer_change_scene
from seg_plugins.geo.aoi import aoi_dates, aoi_window
from seg_plugins.geo.grid import open_raster
from seg_plugins.geo.tiling import axis_windows
from seg_plugins.utils.range_server import serve
from tests.geo.scene_fixture import CRS, scene_bands, transform, write_tif
from tests.geo.test_remote import H, W, write_pair

TILE, OVERLAP, BATCH = 64, 16, 4
# Offsets that are multiples of the stride (TILE - OVERLAP): the AOI run's
# tiles then start where the full run's do.
WINDOW = Window(96, 48, 112, 132)


def write_aoi(path, ring, crs=None):
    """A GeoJSON polygon; ``crs`` as a (pre-RFC 7946) named CRS member."""
    doc = dict(type='FeatureCollection', features=[dict(
        type='Feature', properties={}, geometry=dict(
            type='Polygon', coordinates=[ring]))])
    if crs:
        doc['crs'] = dict(type='name', properties=dict(
            name=f'urn:ogc:def:crs:{crs.replace(":", "::")}'))
    path.write_text(json.dumps(doc))
    return path


def window_ring(window, inset=0.1):
    """The ground rectangle of ``window`` in A's CRS, ``inset`` metres
    inside its pixel edges (so it is widened back to those pixels)."""
    t = transform()
    w, n = t.c + window.col_off * t.a, t.f + window.row_off * t.e
    e, s = w + window.width * t.a, n + window.height * t.e
    w, s, e, n = w + inset, s + inset, e - inset, n - inset
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp('aoi')
    write_pair(root, seeds=(41, 42))
    ring = window_ring(WINDOW)
    write_aoi(root / 'utm.geojson', ring, CRS)
    wgs84 = transform_geom(CRS, 'EPSG:4326', dict(type='Polygon',
                                                  coordinates=[ring]))
    write_aoi(root / 'wgs84.geojson', wgs84['coordinates'][0])
    far = [[x + 5000, y] for x, y in ring]
    write_aoi(root / 'far.geojson', far, CRS)
    return root


def core_tile_starts(length: int, tile: int, overlap: int) -> np.ndarray:
    """(length, ) the start of the tile whose core holds each pixel."""
    starts = np.empty(length, int)
    for start, _, c0, c1 in axis_windows(length, tile, overlap):
        starts[c0:c1] = start
    return starts


def test_aoi_window_any_crs_and_errors(scene, tmp_path):
    a = str(scene / 'a.tif')
    assert aoi_window(a, str(scene / 'utm.geojson')) == WINDOW
    assert aoi_window(a, str(scene / 'wgs84.geojson')) == WINDOW
    with serve(scene) as server:  # A and the AOI over HTTP
        assert aoi_window(f'{server.url}/a.tif',
                          f'{server.url}/wgs84.geojson') == WINDOW
    with pytest.raises(ValueError, match=r'^the AOI .*far.geojson \(.* in '
                       r'EPSG:32631\) does not overlap date A .*a.tif'):
        aoi_window(a, str(scene / 'far.geojson'))
    with pytest.raises(ValueError, match='cannot read the AOI .*none.json'):
        aoi_window(a, str(tmp_path / 'none.json'))
    # A date's own mask is kept through the window.
    mask = scene_bands(H, W, 43, 1)[0] > 128
    masked = write_tif(tmp_path / 'masked.tif', scene_bands(H, W, 44),
                       mask=mask)
    dates = aoi_dates(str(masked), str(scene / 'b.tif'),
                      str(scene / 'utm.geojson'))
    with open_raster(dates[0]) as src:
        np.testing.assert_array_equal(src.dataset_mask() > 0,
                                      mask[WINDOW.toslices()])
        assert src.transform == transform() @ Affine.translation(96, 48)
    # B on another grid is left whole (align resamples it onto the window).
    other = write_tif(tmp_path / 'other.tif', scene_bands(100, 100, 45),
                      geotransform=transform(3, 2))
    assert aoi_dates(str(masked), str(other),
                     str(scene / 'utm.geojson'))[1] == str(other)


def test_aoi_run_is_the_full_run_where_tiles_agree(tiny, scene, tmp_path):
    """The AOI's change COG is on the window's grid and equals the full
    scene's change map cut to the window at every pixel that both runs
    take from the same tile: all but a strip of half the overlap at the
    window's top and left edges and its last tile at the bottom and
    right, where the full run had context beyond the window."""
    kwargs = dict(tile=TILE, overlap=OVERLAP, batch_size=BATCH)
    full = infer_change_scene(tiny[0], str(scene / 'a.tif'),
                              str(scene / 'b.tif'), str(tmp_path / 'full.tif'),
                              **kwargs)
    with serve(scene) as server:
        dates = aoi_dates(f'{server.url}/a.tif', f'{server.url}/b.tif',
                          str(scene / 'wgs84.geojson'))
        got = infer_change_scene(tiny[0], *dates, str(tmp_path / 'aoi.tif'),
                                 **kwargs)
    assert (got['height'], got['width']) == (WINDOW.height, WINDOW.width)
    with rasterio.open(tmp_path / 'aoi.tif') as src:
        assert src.transform == transform() @ Affine.translation(96, 48)
        assert src.crs.to_string() == CRS
        aoi = src.read(1)
    with rasterio.open(full['change']) as src:
        cut = src.read(1, window=WINDOW)
    same = [core_tile_starts(n, TILE, OVERLAP)[o:o + size] ==
            core_tile_starts(size, TILE, OVERLAP) + o
            for n, o, size in ((H, WINDOW.row_off, WINDOW.height),
                               (W, WINDOW.col_off, WINDOW.width))]
    same = same[0][:, None] & same[1][None, :]
    assert same.mean() > 0.4 and 0 < aoi.mean() < 1
    np.testing.assert_array_equal(aoi[same], cut[same])


def test_infer_tool_aoi_equals_the_api(tiny, scene, tmp_path, capsys):
    """tools/infer.py --aoi writes what aoi_dates + infer_change_scene
    write; an AOI off the scene is one error line."""
    from tests.geo.test_remote import load_tool
    infer = load_tool('tools/infer.py')
    _, config, ckpt = tiny
    common = [str(scene / 'a.tif'), str(scene / 'b.tif'), '--config',
              str(config), '--checkpoint', str(ckpt), '--tile', str(TILE),
              '--overlap', str(OVERLAP), '--batch-size', str(BATCH)]
    infer.main([*common, '--aoi', str(scene / 'utm.geojson'), '--out',
                str(tmp_path / 'tool.tif')])
    dates = aoi_dates(str(scene / 'a.tif'), str(scene / 'b.tif'),
                      str(scene / 'utm.geojson'))
    infer_change_scene(tiny[0], *dates, str(tmp_path / 'api.tif'),
                       tile=TILE, overlap=OVERLAP, batch_size=BATCH)
    with rasterio.open(tmp_path / 'tool.tif') as got, \
            rasterio.open(tmp_path / 'api.tif') as want:
        assert got.transform == want.transform
        assert got.shape == (WINDOW.height, WINDOW.width)
        np.testing.assert_array_equal(got.read(), want.read())
    with pytest.raises(SystemExit) as e:
        infer.main([*common, '--aoi', str(scene / 'far.geojson'), '--out',
                    str(tmp_path / 'far.tif')])
    line = str(e.value.code)
    assert line.startswith('error: ') and '\n' not in line
    assert 'far.geojson' in line and 'a.tif' in line, line
