"""STAC items served over HTTP from 127.0.0.1: the raster extension's
scale/offset applied for a model that takes reflectance, Landsat's
QA_PIXEL bits as nodata, and each failure (timeout, 404) one line naming
the URL."""
import json

import numpy as np
import pytest
import rasterio

from seg_plugins.apis import infer_change_scene, init_change_model
from seg_plugins.geo.grid import open_raster
from seg_plugins.geo.remote import remote_config
from seg_plugins.geo.stac import (
    QA_NAMES,
    expects_reflectance,
    masked_share,
    parse_mask_classes,
    stac_date,
    stac_pair,
)
from seg_plugins.utils.range_server import serve
from tests.geo.scene_fixture import assert_same_raster, scene_bands, write_tif
from tests.geo.test_remote import load_tool, write_cog

H, W = 200, 190
TILE, OVERLAP, BATCH = 64, 16, 4
SCALE, OFFSET = 1e-4, -0.1
REFLECTANCE_CONFIG = """_base_ = ['{base}']
input_units = 'reflectance'
model = dict(data_preprocessor=dict(mean=[0.1, 0.1, 0.1],
                                    std=[0.1, 0.1, 0.1], bgr_to_rgb=False))
"""


def write_item(path, bands, assets, extra=None, bbox=(2.9, 40.6, 3.0, 40.7)):
    """A STAC 1.0 item (plain JSON, as catalogues serve it) with the
    assets ``{key: (href, fields)}``; common names from ``bands``."""
    w, s, e, n = bbox
    item = dict(type='Feature', stac_version='1.0.0', id=path.stem,
                bbox=list(bbox), properties=dict(
                    datetime='2023-07-04T10:30:00Z'), links=[],
                geometry=dict(type='Polygon', coordinates=[[
                    [w, s], [e, s], [e, n], [w, n], [w, s]]]),
                assets={key: dict(href=href, **fields)
                        for key, (href, fields) in assets.items()})
    for key, common in bands.items():
        item['assets'][key]['eo:bands'] = [dict(name=key,
                                                common_name=common)]
    path.write_text(json.dumps(item))
    return path


def run(model, a, b, out):
    return infer_change_scene(model, a, b, str(out), tile=TILE,
                              overlap=OVERLAP, batch_size=BATCH)


@pytest.fixture(scope='module')
def dn_scenes(tmp_path_factory):
    """Dates A and B as uint16 digital numbers, one COG per band (nodata
    0, a hole of it in A), items whose raster:bands give scale 1e-4 and
    offset -0.1, and the same reflectance pre-scaled as float32 COGs."""
    root = tmp_path_factory.mktemp('stac_scale')
    common = dict(B04='red', B03='green', B02='blue')
    for name, seed in (('a', 21), ('b', 22)):
        dn = scene_bands(H, W, seed, dtype=np.uint16)
        if name == 'b':
            a = np.stack([rasterio.open(root / f'a_{k}.tif').read(1)
                          for k in common])
            dn[:, 60:150, 30:120] = a[:, 60:150, 30:120]
        else:
            dn[:, 5:25, 100:140] = 0
        assets = {}
        for i, key in enumerate(common):
            write_cog(root / f'{name}_{key}.tif', dn[i:i + 1], nodata=0)
            assets[key] = (f'{name}_{key}.tif', {'raster:bands': [
                dict(nodata=0, data_type='uint16', scale=SCALE,
                     offset=OFFSET)]})
        write_item(root / f'{name}.json', common, assets)
        refl = (dn.astype(np.float64) * SCALE + OFFSET).astype(np.float32)
        refl[dn == 0] = np.nan
        write_cog(root / f'{name}_refl.tif', refl, nodata=np.nan)
    return root


def test_scale_offset_gives_the_change_map_of_reflectance(
        tiny, dn_scenes, tmp_path):
    """A config with input_units = 'reflectance': items of digital
    numbers read with their scale/offset give the change map of the
    pre-scaled float files, pixel for pixel (the hole in A as nodata)."""
    base_config, ckpt = tiny[1], tiny[2]
    config = tmp_path / 'reflectance.py'
    config.write_text(REFLECTANCE_CONFIG.format(base=base_config))
    model = init_change_model(str(config), str(ckpt))
    assert expects_reflectance(model.cfg)
    assert not expects_reflectance(tiny[0].cfg)
    with pytest.raises(ValueError, match="input_units = 'dn'"):
        expects_reflectance(dict(input_units='dn'))
    run(model, str(dn_scenes / 'a_refl.tif'), str(dn_scenes / 'b_refl.tif'),
        tmp_path / 'ref.tif')
    with serve(dn_scenes) as server, rasterio.Env(**remote_config()):
        url = server.url
        raw = stac_date(f'{url}/a.json', ['red', 'green', 'blue'])
        with open_raster(raw) as src:  # as stored without scale
            assert src.dtypes[0] == 'uint16'
        a, b = stac_pair(f'{url}/a.json', f'{url}/b.json',
                         ['red', 'green', 'blue'],
                         scale=expects_reflectance(model.cfg))
        assert a.scales == [[(SCALE, OFFSET)]] * 3
        with open_raster(a) as got, \
                rasterio.open(dn_scenes / 'a_refl.tif') as want:
            np.testing.assert_array_equal(got.read(), want.read())
            np.testing.assert_array_equal(got.read_masks(), want.read_masks())
        summary = run(model, a, b, tmp_path / 'got.tif')
    assert 0 < summary['changed_pixels'] < summary['valid_pixels']
    assert summary['valid_pixels'] == H * W - 20 * 40
    assert_same_raster(tmp_path / 'got.tif', tmp_path / 'ref.tif')


# Landsat Collection 2 QA_PIXEL values: clear land (bit 6 and low
# confidences), and that with other bits set.
CLEAR = 21824
QA_REGIONS = dict(fill=((0, 12), (0, 30)), dilated_cloud=((20, 40), (10, 40)),
                  cirrus=((50, 70), (60, 90)), cloud=((80, 110), (20, 70)),
                  cloud_shadow=((120, 140), (100, 150)),
                  water=((150, 190), (0, 60)))


def qa_pixel() -> np.ndarray:
    qa = np.full((H, W), CLEAR, np.uint16)
    for name, (rows, cols) in QA_REGIONS.items():
        bit = QA_NAMES[name][0]
        qa[slice(*rows), slice(*cols)] = 1 if name == 'fill' else (
            CLEAR | 1 << bit | (2 if name == 'cloud' else 0))  # + dilated
    return qa


def test_landsat_qa_pixel_bits_as_nodata(tiny, tmp_path, capsys):
    """A Landsat-like item with a QA_PIXEL COG: the default classes (fill,
    dilated cloud, cirrus, cloud, cloud shadow) are A's nodata, chosen by
    name otherwise; the change map equals that of local files with this
    mask; the share masked is the mask's."""
    a, b = scene_bands(H, W, 31), scene_bands(H, W, 32)
    qa = qa_pixel()
    common = dict(red='red', green='green', blue='blue')
    for name, bands in (('a', a), ('b', b)):
        assets = {}
        for i, key in enumerate(common):
            write_cog(tmp_path / f'{name}_{key}.tif', bands[i:i + 1])
            assets[key] = (f'{name}_{key}.tif', {})
        write_cog(tmp_path / f'{name}_qa.tif', qa[None])
        assets['qa_pixel'] = (f'{name}_qa.tif', {})
        write_item(tmp_path / f'{name}.json', common, assets)
    clear = (qa & 0b11111) == 0  # bits 0-4
    write_tif(tmp_path / 'a_masked.tif', a, mask=clear)
    write_tif(tmp_path / 'b_masked.tif', b, mask=clear)
    run(tiny[0], str(tmp_path / 'a_masked.tif'),
        str(tmp_path / 'b_masked.tif'), tmp_path / 'ref.tif')
    with serve(tmp_path) as server, rasterio.Env(**remote_config()):
        url = server.url
        da, db = stac_pair(f'{url}/a.json', f'{url}/b.json',
                           ['red', 'green', 'blue'])
        assert da.mask.describe() == 'bits 0,1,2,3,4'
        assert masked_share(da) == pytest.approx(1 - clear.mean())
        run(tiny[0], da, db, tmp_path / 'got.tif')
        chosen = stac_date(f'{url}/a.json', ['red'],
                           parse_mask_classes('cloud,cloud_shadow,3'))
        with open_raster(chosen) as src:
            np.testing.assert_array_equal(
                src.dataset_mask() == 0, (qa & 0b11000) != 0)
        assert stac_date(f'{url}/a.json', ['red'],
                         parse_mask_classes('none')).mask is None
        with pytest.raises(ValueError, match="unknown class 'clouds'"):
            stac_date(f'{url}/a.json', ['red'], ['clouds'])
    assert_same_raster(tmp_path / 'got.tif', tmp_path / 'ref.tif')


def test_failures_are_one_line_naming_the_url(tiny, dn_scenes, tmp_path,
                                              capsys, monkeypatch):
    """A server that stalls: the timeout, for a COG and for an item (the
    tool's one error line); an item and an asset that are not there: 404
    with the URL."""
    for key, value in dict(GDAL_HTTP_TIMEOUT='1', GDAL_HTTP_MAX_RETRY='1',
                           GDAL_HTTP_RETRY_DELAY='0.05').items():
        monkeypatch.setenv(key, value)
    infer = load_tool('tools/infer.py')
    _, config, ckpt = tiny
    item = json.loads((dn_scenes / 'b.json').read_text())
    item['assets']['B03']['href'] = 'gone.tif'
    (tmp_path / 'gone.json').write_text(json.dumps(item))
    for name in ('a_B04.tif', 'a_B03.tif', 'a_B02.tif', 'a.json',
                 'b_B04.tif', 'b_B02.tif'):
        (tmp_path / name).write_bytes((dn_scenes / name).read_bytes())
    # GDAL remembers a URL that timed out as missing: stall copies.
    (tmp_path / 'slow.tif').write_bytes((dn_scenes / 'a_B04.tif').read_bytes())
    (tmp_path / 'slow.json').write_bytes((dn_scenes / 'a.json').read_bytes())

    def tool(a, b):
        with pytest.raises(SystemExit) as e:
            infer.main([a, b, '--stac', '--assets', 'red,green,blue',
                        '--config', str(config), '--checkpoint', str(ckpt),
                        '--out', str(tmp_path / 'none.tif')])
        return str(e.value.code)

    with serve(tmp_path) as server, rasterio.Env(**remote_config()):
        url = server.url
        server.stall.update({'slow.tif': 30, 'slow.json': 30})
        with pytest.raises(ValueError) as e:
            open_raster(f'{url}/slow.tif')
        assert str(e.value) == (f'cannot read {url}/slow.tif: no answer '
                                'in 1 s (GDAL_HTTP_TIMEOUT), 1 retries')
        assert tool(f'{url}/slow.json', f'{url}/gone.json') == (
            f'error: cannot read {url}/slow.json: no answer in 1 s '
            '(GDAL_HTTP_TIMEOUT), 1 retries')
        with pytest.raises(ValueError, match=f'^cannot read {url}/b.json: '
                           r'HTTP 404 \(not found\)$'):
            stac_date(f'{url}/b.json', ['red'])
        assert tool(f'{url}/a.json', f'{url}/gone.json') == (
            f'error: cannot read {url}/gone.tif: HTTP 404 (not found)')
    assert 'Traceback' not in capsys.readouterr().err
