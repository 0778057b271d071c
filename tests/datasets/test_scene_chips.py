"""GeoTIFF chips: the synthetic scene writer, scenes2chips and the rasterio
path of LoadImagePairFromFile / LoadChangeLabel."""
import importlib.util
import json
import re
import sys

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from seg_plugins.utils.synthetic import change_sample
from seg_plugins.utils.synthetic_scene import (
    CELL,
    cell_index,
    write_scene_pair,
)
from tests.conftest import REPO, kill_when

spec = importlib.util.spec_from_file_location(
    'scenes2chips', REPO / 'tools/dataset_converters/scenes2chips.py')
scenes2chips = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scenes2chips)


def chips(capsys, *argv):
    """Run scenes2chips.main in this process; returns what it printed."""
    scenes2chips.main([str(a) for a in argv])
    return capsys.readouterr().out


def write_tif(path, data, nodata=None, crs='EPSG:32633'):
    """(C, H, W) array -> GeoTIFF."""
    count, h, w = data.shape
    with rasterio.open(path, 'w', driver='GTiff', height=h, width=w,
                       count=count, dtype=data.dtype.name, crs=crs,
                       transform=from_origin(500000, 5600000, 0.5, 0.5),
                       nodata=nodata) as dst:
        dst.write(data)
    return str(path)


@pytest.fixture(scope='module')
def scene4(tmp_path_factory):
    """A 4-band uint16 scene pair, 320 x 256, with nodata borders."""
    out = tmp_path_factory.mktemp('scene4')
    return write_scene_pair(str(out), (320, 256), bands=4, dtype='uint16',
                            seed=3)


def load_pair(mmseg_scope, a, b, label=None, **kwargs):
    from mmcv.transforms import Compose
    steps = [dict(type='LoadImagePairFromFile', **kwargs)]
    if label:
        steps.append(dict(type='LoadChangeLabel'))
    return Compose(steps)(dict(img_path=a, img_path2=b, seg_map_path=label,
                               seg_fields=[], label_threshold=None,
                               reduce_zero_label=False))


def test_scene_is_georeferenced_with_nodata_footprints(scene4):
    with rasterio.open(scene4['a']) as a, rasterio.open(scene4['b']) as b, \
            rasterio.open(scene4['label']) as lab:
        assert a.crs.to_epsg() == 32633 and a.count == 4
        assert a.dtypes[0] == 'uint16' and a.nodata == 0
        assert a.transform == b.transform == lab.transform
        assert a.block_shapes[0] == (256, 256) and lab.nodata == 255
        img_a = a.read()
        valid_a = a.dataset_mask() > 0
        valid_b = b.dataset_mask() > 0
        label = lab.read(1)
    # Irregular footprints, different per date; no valid pixel equals the
    # nodata value; the label is 255 exactly where either date is nodata.
    assert 0.4 < valid_a.mean() < 0.9 and (valid_a != valid_b).any()
    assert not valid_a[0, 0] and valid_a[160, 128]
    np.testing.assert_array_equal((img_a > 0).all(0), valid_a)
    np.testing.assert_array_equal(label == 255, ~(valid_a & valid_b))
    assert set(np.unique(label)) == {0, 1, 255}
    # Scaled digital numbers: 40 per level in A (level 0 kept at 1, off
    # the nodata value).
    dn = img_a[:, valid_a]
    assert img_a.max() > 255 * 20 and ((dn % 40 == 0) | (dn == 1)).all()


def test_scene_cells_are_the_demos_chips(tmp_path):
    """Each 64x64 cell of a 3-band scene is one of the demo's chips
    (change_sample): A and the label exactly (A's valid pixels >= 1)."""
    paths = write_scene_pair(str(tmp_path), (128, 192), bands=3, seed=4,
                             nodata_border=False)
    with rasterio.open(paths['a']) as src:
        a = src.read().transpose(1, 2, 0)
    with rasterio.open(paths['label']) as src:
        label = src.read(1)
    for row, col in ((0, 0), (1, 2)):
        ref_a, _, ref_label = change_sample(4, cell_index(row, col), CELL)
        cell = np.s_[row * CELL:(row + 1) * CELL, col * CELL:(col + 1) * CELL]
        np.testing.assert_array_equal(a[cell], np.maximum(ref_a, 1))
        np.testing.assert_array_equal(label[cell], ref_label // 255)
    assert label.any()


def test_four_band_scene_extends_the_three_band_one(tmp_path):
    p3 = write_scene_pair(str(tmp_path / 's3'), 128, bands=3, seed=2)
    p4 = write_scene_pair(str(tmp_path / 's4'), 128, bands=4, seed=2)
    for key in ('a', 'b'):
        with rasterio.open(p3[key]) as s3, rasterio.open(p4[key]) as s4:
            np.testing.assert_array_equal(s3.read(), s4.read()[:3])


def test_shifted_b_shows_the_same_ground(tmp_path):
    base = write_scene_pair(str(tmp_path / 'base'), 192, seed=1,
                            nodata_border=False)
    moved = write_scene_pair(str(tmp_path / 'moved'), 192, seed=1,
                             nodata_border=False, b_shift=(5, -3))
    with rasterio.open(base['b']) as b0, rasterio.open(moved['b']) as b1:
        assert b1.transform.c == b0.transform.c - 3 * 0.5
        assert b1.transform.f == b0.transform.f - 5 * 0.5
        np.testing.assert_array_equal(b1.read()[:, :-5, 3:],
                                      b0.read()[:, 5:, :-3])


def test_geotiff_chips_keep_uint16_and_band_order(mmseg_scope, tmp_path):
    rng = np.random.default_rng(0)
    bands = rng.integers(0, 60000, (4, 16, 24)).astype(np.uint16)
    a = write_tif(tmp_path / 'a.tif', bands)
    b = write_tif(tmp_path / 'b.tif', bands[::-1].copy())
    out = load_pair(mmseg_scope, a, b)
    assert out['img'].dtype == np.uint16 and out['img'].shape == (16, 24, 4)
    np.testing.assert_array_equal(out['img'], bands.transpose(1, 2, 0))
    np.testing.assert_array_equal(out['img2'][..., 0], bands[3])
    # --bands style selection, 1-based.
    out = load_pair(mmseg_scope, a, b, bands=[4, 1])
    np.testing.assert_array_equal(out['img'], bands[[3, 0]].transpose(1, 2,
                                                                      0))


def test_three_band_geotiff_loads_like_the_same_png(mmseg_scope, tmp_path):
    from PIL import Image
    rgb = np.random.default_rng(1).integers(0, 256, (20, 12, 3),
                                            dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    tif = write_tif(tmp_path / 'a.tif', rgb.transpose(2, 0, 1).copy())
    png = str(tmp_path / 'a.png')
    from_tif = load_pair(mmseg_scope, tif, tif)['img']
    np.testing.assert_array_equal(from_tif,
                                  load_pair(mmseg_scope, png, png)['img'])
    np.testing.assert_array_equal(from_tif, rgb[..., ::-1])  # BGR, as cv2


def test_not_a_raster_tif_names_the_file(mmseg_scope, tmp_path):
    bad = tmp_path / 'broken.tif'
    bad.write_text('not a GeoTIFF')
    good = write_tif(tmp_path / 'good.tif', np.ones((4, 8, 8), np.uint16))
    with pytest.raises(ValueError, match=r'cannot read .*broken\.tif as a '
                       'raster'):
        load_pair(mmseg_scope, good, str(bad))


def test_label_nodata_is_ignored(mmseg_scope, tmp_path):
    img = write_tif(tmp_path / 'a.tif', np.ones((4, 6, 6), np.uint16))
    label = np.zeros((1, 6, 6), np.uint8)
    label[0, :2] = 255
    label[0, 3] = 1
    lab = write_tif(tmp_path / 'label.tif', label, nodata=255)
    out = load_pair(mmseg_scope, img, img, lab)
    np.testing.assert_array_equal(out['gt_seg_map'], label[0])
    # Without declared nodata, 0/255 is the LEVIR convention: 255 = change.
    levir = np.where(label == 255, 255, 0).astype(np.uint8)
    lab = write_tif(tmp_path / 'levir.tif', levir)
    out = load_pair(mmseg_scope, img, img, lab)
    np.testing.assert_array_equal(out['gt_seg_map'], label[0] == 255)


def test_values_without_data_load_as_zero(mmseg_scope, tmp_path):
    """As scene inference shows them to the model (seg_plugins/geo/
    nodata.py): a NaN would make the loss NaN, a sentinel is far out of
    range."""
    rng = np.random.default_rng(2)
    data = rng.uniform(1, 4000, (4, 12, 10)).astype(np.float32)
    holes = rng.random((4, 12, 10)) < 0.2  # per band
    for name, nodata, stored, dtype in (
            ('nan', np.nan, np.nan, np.float32),
            ('undeclared', None, np.inf, np.float32),
            ('sentinel', 65535, 65535, np.uint16)):
        chip = data.astype(dtype)
        chip[holes] = stored
        path = write_tif(tmp_path / f'{name}.tif', chip, nodata=nodata)
        img = load_pair(mmseg_scope, path, path)['img']
        expected = np.where(holes, 0, data.astype(dtype))
        np.testing.assert_array_equal(img, expected.transpose(1, 2, 0))


def test_chips_of_float_and_masked_scenes(tmp_path, capsys):
    """A NaN is no data in a float scene (label ignored there, band
    statistics finite); a PNG chip, without nodata, holds 0 where the
    scene had none."""
    rng = np.random.default_rng(3)
    label = write_tif(tmp_path / 'label.tif',
                      rng.integers(0, 2, (1, 64, 64)).astype(np.uint8))
    data = rng.uniform(1, 199, (2, 3, 64, 64))  # 200: nodata below
    holes = np.zeros((64, 64), bool)
    holes[10:20, 5:30] = True
    floats = data.astype(np.float32)
    floats[1, 1:, holes] = np.nan  # B, two of three bands: no data
    a, b = (write_tif(tmp_path / f'{d}.tif', floats[i])
            for i, d in enumerate('ab'))
    chips(capsys, '--scene', a, b, label, '--out', tmp_path / 'tif',
          '--size', 32, '--val-fraction', 0)
    with rasterio.open(tmp_path / 'tif/train/label/a_0_0.tif') as src:
        np.testing.assert_array_equal(src.read(1) == 255, holes[:32, :32])
    stats = json.loads((tmp_path / 'tif/band_stats.json').read_text())
    assert np.isfinite(stats['mean'] + stats['std']).all()
    bytes_ = data.astype(np.uint8)
    bytes_[:, :, holes] = 200
    a, b = (write_tif(tmp_path / f'{d}8.tif', bytes_[i], nodata=200)
            for i, d in enumerate('ab'))
    chips(capsys, '--scene', a, b, label, '--out', tmp_path / 'png',
          '--size', 32, '--val-fraction', 0, '--format', 'png')
    from PIL import Image
    chip = np.asarray(Image.open(tmp_path / 'png/train/B/a8_0_0.png'))
    np.testing.assert_array_equal(chip[holes[:32, :32]], 0)
    np.testing.assert_array_equal(chip[~holes[:32, :32]],
                                  bytes_[1, :, :32, :32].transpose(
                                      1, 2, 0)[~holes[:32, :32]])


def expected_kept(label_path, size, max_nodata):
    """Chip origins whose nodata share (label 255) is at most max_nodata."""
    with rasterio.open(label_path) as src:
        invalid = src.read(1) == 255
    h, w = invalid.shape
    starts = [(r, c) for r in scenes2chips.axis_starts(h, size, size)
              for c in scenes2chips.axis_starts(w, size, size)]
    return {(r, c) for r, c in starts
            if invalid[r:r + size, c:c + size].mean() <= max_nodata}, starts


def test_mostly_nodata_chips_are_skipped_and_counted(scene4, tmp_path,
                                                     capsys):
    out = tmp_path / 'chips'
    printed = chips(capsys, '--scene', scene4['a'], scene4['b'],
                    scene4['label'], '--out', out, '--size', 64,
                    '--max-nodata', 0.3, '--val-fraction', 0)
    kept, starts = expected_kept(scene4['label'], 64, 0.3)
    assert 0 < len(kept) < len(starts)
    assert f'skipped {len(starts) - len(kept)} chips' in printed
    names = sorted(p.stem for p in (out / 'train/A').glob('*.tif'))
    assert names == sorted(f'scene_A_{r}_{c}' for r, c in kept)
    # Chips keep dtype, bands, nodata and their window's georeferencing.
    name = names[0]
    r, c = map(int, name.split('_')[-2:])
    with rasterio.open(out / f'train/A/{name}.tif') as chip, \
            rasterio.open(scene4['a']) as scene:
        assert chip.count == 4 and chip.dtypes[0] == 'uint16'
        assert chip.nodata == 0 and chip.crs == scene.crs
        assert chip.transform == scene.window_transform(
            rasterio.windows.Window(c, r, 64, 64))
        np.testing.assert_array_equal(
            chip.read(), scene.read(window=((r, r + 64), (c, c + 64))))
    stats = json.loads((out / 'band_stats.json').read_text())
    assert len(stats['mean']) == 4 and 1000 < stats['mean'][0] < 9000


def test_polygon_labels_equal_the_raster_label(scene4, tmp_path, capsys):
    """Changes polygonised (GPKG in the scene's CRS, GeoJSON in WGS84)
    and rasterised back by scenes2chips give the raster label's chips."""
    import pyogrio.raw
    import shapely
    from rasterio.features import shapes
    from rasterio.warp import transform_geom
    with rasterio.open(scene4['label']) as src:
        label, transform, crs = src.read(1), src.transform, src.crs
    polys = [shapely.geometry.shape(g) for g, v in shapes(
        label, mask=label == 1, transform=transform) if v == 1]
    assert len(polys) > 5
    gpkg = str(tmp_path / 'changes.gpkg')
    pyogrio.raw.write(gpkg, shapely.to_wkb(polys), [], [],
                      geometry_type='Polygon', crs=crs.to_wkt())
    wgs84 = [transform_geom(crs, 'EPSG:4326', shapely.geometry.mapping(p))
             for p in polys]
    geojson = tmp_path / 'changes.geojson'
    geojson.write_text(json.dumps(dict(type='FeatureCollection', features=[
        dict(type='Feature', properties={}, geometry=g) for g in wgs84])))
    runs = {}
    for key, lab in (('raster', scene4['label']), ('gpkg', gpkg),
                     ('geojson', geojson)):
        out = tmp_path / key
        chips(capsys, '--scene', scene4['a'], scene4['b'], lab, '--out', out,
              '--size', 96, '--stride', 80, '--val-fraction', 0.25)
        runs[key] = {
            p.relative_to(out): rasterio.open(p).read(1)
            for p in sorted(out.glob('*/label/*.tif'))
        }
    assert len(runs['raster']) > 3
    for key in ('gpkg', 'geojson'):
        assert runs[key].keys() == runs['raster'].keys()
        for name, chip in runs['raster'].items():
            np.testing.assert_array_equal(runs[key][name], chip, err_msg=key)
    assert any((chip == 1).any() for chip in runs['raster'].values())


def test_a_killed_run_is_cleaned_up_by_the_next(tmp_path, capsys):
    """SIGKILL while chipping leaves only the staging folder; the same
    command then starts over and writes every chip. The scene makes 1,024
    chips, seconds of work: the run cannot end before the kill lands."""
    scene = write_scene_pair(str(tmp_path / 'scene'), (1024, 1024),
                             bands=4, dtype='uint16', seed=4)
    out = tmp_path / 'chips'
    argv = ['--scene', scene['a'], scene['b'], scene['label'], '--out',
            out, '--size', 32, '--max-nodata', 1]
    assert kill_when([sys.executable,
                      'tools/dataset_converters/scenes2chips.py', *argv],
                     lambda line: 'chips of 32^2' in line) == -9
    assert [p.name for p in out.iterdir()] == ['.staging']
    printed = chips(capsys, *argv)
    assert f'removing {out}/.staging, left by a run that was stopped' in \
        printed
    starts = len(expected_kept(scene['label'], 32, 1)[1])
    assert starts == 1024 and f'wrote {starts} chips' in printed
    assert not (out / '.staging').exists()


def test_grids_that_differ_name_both_files(scene4, tmp_path, capsys):
    with rasterio.open(scene4['a']) as src:
        data = src.read()
    other = write_tif(tmp_path / 'utm32.tif', data, nodata=0,
                      crs='EPSG:32632')
    with pytest.raises(SystemExit, match=r'(?s)scene_A\.tif and .*utm32\.tif'
                       r' are not on the same pixel grid.*EPSG:32632'):
        chips(capsys, '--scene', scene4['a'], other, scene4['label'],
              '--out', tmp_path / 'out')
    assert not (tmp_path / 'out').exists()


def test_png_chips_refuse_uint16(scene4, tmp_path, capsys):
    with pytest.raises(SystemExit, match=r'scene_A\.tif: PNG chips hold '
                       r'3-band uint8 .* 4 band\(s\) of uint16'):
        chips(capsys, '--scene', scene4['a'], scene4['b'], scene4['label'],
              '--out', tmp_path / 'png', '--format', 'png')


def test_split_by_scene_and_seeded_fractions(scene4, tmp_path, capsys):
    runs = []
    for i in range(2):
        out = tmp_path / f'run{i}'
        printed = chips(capsys, '--scene', scene4['a'], scene4['b'],
                        scene4['label'], '--out', out, '--size', 64,
                        '--val-fraction', 0.2, '--test-fraction', 0.2)
        runs.append({s: sorted(p.name for p in (out / s / 'A').glob('*'))
                     for s in ('train', 'val', 'test')})
        total = sum(map(len, runs[-1].values()))
        assert re.search(rf'wrote {total} chips', printed)
    assert runs[0] == runs[1] and all(runs[0].values())
    out = tmp_path / 'held_out'
    chips(capsys, '--scene', scene4['a'], scene4['b'], scene4['label'],
          'test', '--out', out, '--size', 64)
    assert not (out / 'train').exists()
    assert len(list((out / 'test/A').glob('*.tif'))) == total


def test_photometric_distortion_is_uint8_only(mmseg_scope):
    """Why the GeoTIFF chip configs leave mmseg's PhotoMetricDistortion
    out: it returns uint8 clipped to 255, whatever the input's range."""
    from mmseg.registry import TRANSFORMS
    dn = np.random.default_rng(0).integers(1000, 10000, (8, 8, 4))
    distort = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))
    # Every step goes through convert(); which steps run is drawn from
    # numpy's global RNG (and the hue/saturation ones need 3-channel uint8
    # or float input), so the step itself is what is checked.
    out = distort.convert(dn.astype(np.uint16), alpha=1.0, beta=0)
    assert out.dtype == np.uint8 and out.max() == 255
    assert dn.min() > 255  # every input value was clipped
