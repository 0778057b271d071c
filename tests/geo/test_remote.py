"""Scenes read where they live: COGs over HTTP with range requests from a
server on 127.0.0.1 that the test starts, and dates given as one file per
band; the outputs equal those of the same pixels read locally."""
import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling

from seg_plugins.apis import infer_change_scene
from seg_plugins.geo.band_stack import date_files
from seg_plugins.geo.cog import same_file
from seg_plugins.geo.grid import open_raster
from seg_plugins.geo.remote import gdal_path, remote_config
from seg_plugins.utils.range_server import serve
from tests.geo.scene_fixture import (
    PIXEL,
    assert_same_raster,
    scene_bands,
    transform,
    write_tif,
)

TILE, OVERLAP, BATCH = 64, 16, 4
H, W = 260, 250


def write_cog(path, bands, **profile):
    """``bands`` (C, H, W) as a COG (128^2 blocks, deflate), as served."""
    tmp = write_tif(path.with_suffix('.gtiff'), bands, **profile)
    rasterio.shutil.copy(tmp, path, driver='COG', blocksize=128,
                         compress='deflate')
    tmp.unlink()
    return path


def write_pair(root, seeds=(1, 2)):
    """Dates A and B (3 bands, H x W) as ``a.tif`` and ``b.tif`` COGs in
    ``root``, B a copy of A in a block (a region without change)."""
    a, b = (scene_bands(H, W, seed) for seed in seeds)
    b[:, 100:200, 40:160] = a[:, 100:200, 40:160]
    write_cog(root / 'a.tif', a)
    write_cog(root / 'b.tif', b)
    return a, b


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    """Two 3-band dates as COGs, and date B again as one COG per band."""
    root = tmp_path_factory.mktemp('remote')
    _, b = write_pair(root)
    for i in range(3):
        write_cog(root / f'b{i + 1}.tif', b[i:i + 1])
    return root


def run(model, a, b, out, **kwargs):
    return infer_change_scene(model, a, b, str(out), tile=TILE,
                              overlap=OVERLAP, batch_size=BATCH, **kwargs)


@pytest.fixture(scope='module')
def reference(tiny, scenes):
    """The change and probability COGs of the local files, and the
    summary."""
    out = scenes / 'ref'
    summary = run(tiny[0], str(scenes / 'a.tif'), str(scenes / 'b.tif'),
                  out / 'change.tif', prob_out=str(out / 'prob.tif'))
    return out / 'change.tif', out / 'prob.tif', summary


def test_location_names():
    assert gdal_path('https://h/x.tif') == '/vsicurl/https://h/x.tif'
    assert gdal_path('s3://bucket/k/x.tif') == '/vsis3/bucket/k/x.tif'
    assert gdal_path('gs://b/x.tif') == '/vsigs/b/x.tif'
    assert gdal_path('/vsiaz/c/x.tif') == '/vsiaz/c/x.tif'
    assert gdal_path('rel/x.tif') == 'rel/x.tif'
    with pytest.raises(ValueError, match='ftp://.*no GDAL file system'):
        gdal_path('ftp://h/x.tif')
    # Remote names are compared as GDAL's names, never as local paths.
    assert same_file('s3://b/x.tif', '/vsis3/b/x.tif')
    assert not same_file('https://h/x.tif', 'x.tif')
    assert date_files('a.tif') == ['a.tif']
    assert date_files('B04.tif, B03.tif') == ['B04.tif', 'B03.tif']


def test_vsi_cache_only_for_remote_files(monkeypatch):
    # A local scene is read through the OS's page cache: GDAL's per-file
    # cache would hold up to VSI_CACHE_SIZE of it per file.
    for key in ('VSI_CACHE', 'VSI_CACHE_SIZE', 'GDAL_HTTP_TIMEOUT'):
        monkeypatch.delenv(key, raising=False)
    local = remote_config('a.tif', '/data/b.tif')
    assert 'VSI_CACHE' not in local and 'VSI_CACHE_SIZE' not in local
    assert local['GDAL_HTTP_TIMEOUT'] == '60'
    for files in (('a.tif', 'https://h/b.tif'), ('/vsis3/b/x.tif', ), ()):
        assert remote_config(*files)['VSI_CACHE'] == 'TRUE'


def test_a_coarser_band_is_resampled_bilinear(tmp_path):
    fine = write_tif(tmp_path / 'fine.tif', scene_bands(64, 64, 3, 1,
                                                        np.uint16))
    coarse_t = rasterio.Affine(PIXEL * 2, 0, transform().c, 0, -PIXEL * 2,
                               transform().f)
    coarse = write_tif(tmp_path / 'coarse.tif',
                       scene_bands(32, 32, 4, 1, np.uint16),
                       geotransform=coarse_t)
    with open_raster(f'{fine},{coarse}') as src:
        assert (src.count, src.height, src.width) == (2, 64, 64)
        assert src.transform == transform()
        stacked = src.read()
    with rasterio.open(coarse) as src:
        want = src.read(1, out_shape=(64, 64),
                        resampling=Resampling.bilinear)
    with rasterio.open(fine) as src:
        np.testing.assert_array_equal(stacked[0], src.read(1))
    np.testing.assert_array_equal(stacked[1], want)
    other = write_tif(tmp_path / 'other.tif', scene_bands(64, 64, 5, 1),
                      crs='EPSG:32632')
    with pytest.raises(ValueError, match='other.tif: CRS EPSG:32632'):
        open_raster(f'{fine},{other}')


def test_http_failures_are_one_line_with_url_and_status(scenes,
                                                        monkeypatch):
    monkeypatch.setenv('GDAL_HTTP_RETRY_DELAY', '0.05')
    with serve(scenes) as server, rasterio.Env(**remote_config()):
        url = f'{server.url}/missing.tif'
        with pytest.raises(ValueError) as e:
            open_raster(url)
        assert str(e.value) == f'cannot read {url}: HTTP 404 (not found)'
        server.fail['b1.tif'] = 403
        with pytest.raises(ValueError, match=r'b1.tif: HTTP 403 \(forb'):
            open_raster(f'{server.url}/b1.tif')
        # A transient 503 is retried; one that lasts names its status.
        server.fail['b2.tif'], server.fail_times['b2.tif'] = 503, 2
        with open_raster(f'{server.url}/b2.tif') as src:
            assert src.count == 1
        server.fail['b3.tif'], server.fail_times['b3.tif'] = 503, 99
        with pytest.raises(ValueError, match=r'b3.tif: HTTP 503'):
            open_raster(f'{server.url}/b3.tif')


def load_tool(relative: str):
    """A tool's module, loaded from its file (run in this process)."""
    import importlib.util

    from tests.conftest import REPO
    spec = importlib.util.spec_from_file_location(
        relative.replace('/', '_'), REPO / relative)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_infer_tool_pairs_over_http(tiny, scenes, reference, tmp_path,
                                    capsys, monkeypatch):
    """tools/infer.py --pairs with dates over HTTP (B as band files): the
    change and probability maps of the local files, each file read about
    once (its blocks, not its overviews); a 404 is one [error] line naming
    the URL, and the other line still runs."""
    _, config, ckpt = tiny
    model = ['--config', config, '--checkpoint', ckpt, '--tile', TILE,
             '--overlap', OVERLAP, '--batch-size', BATCH]
    monkeypatch.setenv('GDAL_HTTP_RETRY_DELAY', '0.05')
    infer = load_tool('tools/infer.py')
    with serve(scenes) as server:
        url = server.url
        bands = ','.join(f'{url}/b{i}.tif' for i in (1, 2, 3))
        lst = tmp_path / 'pairs.txt'
        lst.write_text(f'{url}/a.tif {bands} {tmp_path}/got.tif\n'
                       f'{url}/a.tif {url}/gone.tif {tmp_path}/gone.tif\n')
        with pytest.raises(SystemExit, match='1 pair'):
            infer.main([str(a) for a in ('--pairs', lst, *model, '--prob',
                                         '_p.tif')])
        sent = dict(server.sent)
    log = capsys.readouterr().err
    assert_same_raster(tmp_path / 'got.tif', reference[0])
    assert_same_raster(tmp_path / 'got_p.tif', reference[1])
    for name in ('a.tif', 'b1.tif', 'b2.tif', 'b3.tif'):
        size = (scenes / name).stat().st_size
        assert 0.5 * size <= sent[name] <= 1.2 * size, (name, sent, size)
    assert (f'[error] {lst}:2: cannot read {url}/gone.tif: HTTP 404 '
            '(not found)') in log
    assert 'Traceback' not in log and not (tmp_path / 'gone.tif').exists()


@pytest.fixture
def s3_bucket(scenes, monkeypatch):
    """moto's S3 server on 127.0.0.1 holding the scenes in bucket
    ``scenes``, with GDAL pointed at it (static credentials, plain HTTP,
    path-style addresses) through the environment."""
    boto3 = pytest.importorskip('boto3')
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=0,
                                verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = dict(AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
               AWS_REGION='us-east-1', AWS_S3_ENDPOINT=f'{host}:{port}',
               AWS_HTTPS='NO', AWS_VIRTUAL_HOSTING='FALSE')
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client('s3', endpoint_url=f'http://{host}:{port}',
                      region_name='us-east-1')
    s3.create_bucket(Bucket='scenes')
    for name in ('a.tif', 'b.tif', 'b1.tif', 'b2.tif', 'b3.tif'):
        s3.upload_file(str(scenes / name), 'scenes', f'l2a/{name}')
    try:
        yield 'scenes/l2a'
    finally:
        server.stop()


def test_s3_scene_equals_local(tiny, reference, s3_bucket, tmp_path):
    """s3:// and /vsis3/ names, B as a list of band files: the local
    change map; a
    missing key is one line naming it and the status."""
    listed = tmp_path / 'b.txt'  # B's band files in a list
    listed.write_text(''.join(f's3://{s3_bucket}/b{i}.tif\n'
                              for i in (1, 2, 3)))
    run(tiny[0], f'/vsis3/{s3_bucket}/a.tif', str(listed),
        tmp_path / 'got.tif')
    assert_same_raster(tmp_path / 'got.tif', reference[0])
    with rasterio.Env(**remote_config()), pytest.raises(ValueError) as e:
        open_raster(f's3://{s3_bucket}/gone.tif')
    assert str(e.value) == (f'cannot read s3://{s3_bucket}/gone.tif: '
                            'HTTP 404 (not found)')


def test_scenes2chips_over_http_with_band_files(scenes, tmp_path, capsys):
    """scenes2chips with A over HTTP and B as band files over HTTP: the
    chips of the local stacked files."""
    from seg_plugins.geo.chips import ChipOptions
    from seg_plugins.geo.chips_dataset import write_chip_dataset
    label = write_tif(tmp_path / 'label.tif',
                      (scene_bands(H, W, 7, 1) > 128).astype(np.uint8))
    options = ChipOptions(size=128)
    write_chip_dataset([(str(scenes / 'a.tif'), str(scenes / 'b.tif'),
                         str(label))], tmp_path / 'local', options,
                       val_fraction=0)
    with serve(scenes) as server:
        bands = ','.join(f'{server.url}/b{i}.tif' for i in (1, 2, 3))
        write_chip_dataset([(f'{server.url}/a.tif', bands, str(label))],
                           tmp_path / 'http', options, val_fraction=0)
    capsys.readouterr()
    local = sorted(p.relative_to(tmp_path / 'local')
                   for p in (tmp_path / 'local').rglob('*.tif'))
    assert len(local) >= 3 * 4  # A, B, label of four chips at least
    assert local == sorted(p.relative_to(tmp_path / 'http')
                           for p in (tmp_path / 'http').rglob('*.tif'))
    for rel in local:
        with rasterio.open(tmp_path / 'local' / rel) as want, \
                rasterio.open(tmp_path / 'http' / rel) as got:
            np.testing.assert_array_equal(got.read(), want.read())
            assert got.transform == want.transform


def write_item(path, name, bbox, bands, scl=None):
    """A STAC item (pystac, eo:bands with common names) whose assets are
    the files ``bands`` (red, green, blue) and ``scl``, relative hrefs."""
    import datetime

    import pystac
    w, s, e, n = bbox
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    item = pystac.Item(id=name, geometry=dict(type='Polygon',
                                              coordinates=[ring]),
                       bbox=bbox, properties={},
                       datetime=datetime.datetime(2023, 7, 4))
    for key, common, href in zip(('B04', 'B03', 'B02'),
                                 ('red', 'green', 'blue'), bands):
        item.add_asset(key, pystac.Asset(href=href, extra_fields={
            'eo:bands': [dict(name=key, common_name=common)]}))
    if scl:
        item.add_asset('SCL', pystac.Asset(href=scl))
    import json
    path.write_text(json.dumps(item.to_dict(include_self_link=False)))
    return path


def test_stac_items_over_http_with_scl_mask(tiny, scenes, tmp_path,
                                            capsys):
    """STAC items served over HTTP, assets by common name, Sentinel-2's
    SCL (20 m, clouds in it) as A's nodata: the change map of local files
    whose internal mask is that cloud mask; a missing asset and disjoint
    footprints are one line naming the item."""
    from seg_plugins.geo.stac import masked_share, stac_date, stac_pair
    with rasterio.open(scenes / 'a.tif') as src:
        a = src.read()
    for i in range(3):
        write_cog(scenes / f'a{i + 1}.tif', a[i:i + 1])
    scl = np.full(((H + 1) // 2, (W + 1) // 2), 4, np.uint8)  # vegetation
    scl[10:40, 20:70], scl[90:100, 5:30] = 9, 3  # cloud, its shadow
    coarse = rasterio.Affine(PIXEL * 2, 0, transform().c, 0, -PIXEL * 2,
                             transform().f)
    write_cog(scenes / 'scl.tif', scl[None], geotransform=coarse)
    clear = np.kron(scl != 9, np.ones((2, 2), bool))[:H, :W]
    clear &= np.kron(scl != 3, np.ones((2, 2), bool))[:H, :W]
    write_tif(tmp_path / 'a_masked.tif', a, mask=clear)
    bbox = [2.9, 40.6, 3.0, 40.7]
    write_item(scenes / 'a.json', 'A', bbox,
               [f'a{i}.tif' for i in (1, 2, 3)], 'scl.tif')
    write_item(scenes / 'b.json', 'B', bbox,
               [f'b{i}.tif' for i in (1, 2, 3)])
    write_item(scenes / 'far.json', 'far', [10, 50, 10.1, 50.1],
               [f'b{i}.tif' for i in (1, 2, 3)])
    run(tiny[0], str(tmp_path / 'a_masked.tif'), str(scenes / 'b.tif'),
        tmp_path / 'ref.tif')
    with serve(scenes) as server:
        date_a, date_b = stac_pair(f'{server.url}/a.json',
                                   f'{server.url}/b.json',
                                   ['red', 'green', 'B02'])
        assert date_b.mask is None and len(date_a.files) == 3
        assert masked_share(date_a) == pytest.approx(1 - clear.mean(),
                                                     abs=0.01)
        run(tiny[0], date_a, date_b, tmp_path / 'got.tif')
        with pytest.raises(ValueError, match=r"a.json: no asset 'swir'"):
            stac_date(f'{server.url}/a.json', ['red', 'swir'])
        with pytest.raises(ValueError, match='far.json .* do not overlap'):
            stac_pair(f'{server.url}/a.json', f'{server.url}/far.json',
                      ['red'])
        infer = load_tool('tools/infer.py')
        _, config, ckpt = tiny
        infer.main([f'{server.url}/a.json', f'{server.url}/b.json', '--stac',
                    '--assets', 'red,green,blue', '--config', str(config),
                    '--checkpoint', str(ckpt), '--tile', str(TILE),
                    '--overlap', str(OVERLAP), '--batch-size', str(BATCH),
                    '--out', str(tmp_path / 'tool.tif')])
        assert f'% masked by classes 0,1,3,8,9,10 of {server.url}/scl.tif' \
            in capsys.readouterr().out
        with pytest.raises(SystemExit, match="error: .*a.json: no asset "
                           "'swir'"):
            infer.main([f'{server.url}/a.json', f'{server.url}/b.json',
                        '--stac', '--assets', 'swir', '--config',
                        str(config), '--checkpoint', str(ckpt), '--out',
                        str(tmp_path / 'none.tif')])
    assert_same_raster(tmp_path / 'got.tif', tmp_path / 'ref.tif')
    assert_same_raster(tmp_path / 'tool.tif', tmp_path / 'ref.tif')
