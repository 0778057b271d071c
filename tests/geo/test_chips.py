"""The chip converter (seg_plugins.geo.chips*, the library of
tools/dataset_converters/scenes2chips.py): chips of GeoTIFF scenes with
raster or polygon labels, nodata, splits and band statistics."""
import json
import re
import sys

import numpy as np
import pytest
import rasterio

from seg_plugins.geo.chips import ChipOptions
from seg_plugins.geo.chips_dataset import write_chip_dataset
from seg_plugins.geo.chips_labels import ChipError
from seg_plugins.geo.tiling import axis_windows
from seg_plugins.utils.synthetic_scene import write_scene_pair
from tests.conftest import kill_when
from tests.datasets.test_scene_chips import write_tif

SPLIT_KEYS = ('val_fraction', 'test_fraction', 'seed')


def chips(capsys, scenes, out, **kwargs):
    """Write a chip dataset in this process as scenes2chips does (keywords
    of ChipOptions and of the split) and print its report; returns what
    was printed."""
    split = {k: kwargs.pop(k) for k in SPLIT_KEYS if k in kwargs}
    report = write_chip_dataset(scenes, out, ChipOptions(**kwargs), **split)
    print('\n'.join(report.lines()))
    return capsys.readouterr().out


def scene_paths(scene):
    """A, B and the label of a scene written by write_scene_pair."""
    return scene['a'], scene['b'], scene['label']


@pytest.fixture(scope='module')
def scene4(tmp_path_factory):
    """A 4-band uint16 scene pair, 320 x 256, with nodata borders."""
    out = tmp_path_factory.mktemp('scene4')
    return write_scene_pair(str(out), (320, 256), bands=4, dtype='uint16',
                            seed=3)


def test_chip_starts_are_the_tiling_windows():
    """Chips start every stride, the last one flush with the edge; a
    stride longer than the chip leaves gaps (a negative overlap)."""
    starts = {stride: [s for s, *_ in axis_windows(100, 32, 32 - stride)]
              for stride in (32, 20, 40)}
    assert starts == {32: [0, 32, 64, 68], 20: [0, 20, 40, 60, 68],
                      40: [0, 40, 68]}
    assert [s for s, *_ in axis_windows(32, 32, 0)] == [0]


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
    chips(capsys, [(a, b, label)], tmp_path / 'tif', size=32,
          val_fraction=0)
    with rasterio.open(tmp_path / 'tif/train/label/a_0_0.tif') as src:
        np.testing.assert_array_equal(src.read(1) == 255, holes[:32, :32])
    stats = json.loads((tmp_path / 'tif/band_stats.json').read_text())
    assert np.isfinite(stats['mean'] + stats['std']).all()
    bytes_ = data.astype(np.uint8)
    bytes_[:, :, holes] = 200
    a, b = (write_tif(tmp_path / f'{d}8.tif', bytes_[i], nodata=200)
            for i, d in enumerate('ab'))
    chips(capsys, [(a, b, label)], tmp_path / 'png', size=32,
          val_fraction=0, fmt='png')
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
    starts = [(r, c) for r, *_ in axis_windows(h, size, 0)
              for c, *_ in axis_windows(w, size, 0)]
    return {(r, c) for r, c in starts
            if invalid[r:r + size, c:c + size].mean() <= max_nodata}, starts


def test_mostly_nodata_chips_are_skipped_and_counted(scene4, tmp_path,
                                                     capsys):
    out = tmp_path / 'chips'
    printed = chips(capsys, [scene_paths(scene4)], out, size=64,
                    max_nodata=0.3, val_fraction=0)
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
    and rasterised back by the chip converter give the raster label's chips."""
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
        chips(capsys, [(scene4['a'], scene4['b'], lab)], out, size=96,
              stride=80, val_fraction=0.25)
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
    """SIGKILL while scenes2chips chips leaves only the staging folder; the
    same chips asked again start over and write every chip. The scene makes
    1,024 chips, seconds of work: the run cannot end before the kill
    lands."""
    scene = write_scene_pair(str(tmp_path / 'scene'), (1024, 1024),
                             bands=4, dtype='uint16', seed=4)
    out = tmp_path / 'chips'
    argv = ['--scene', scene['a'], scene['b'], scene['label'], '--out',
            out, '--size', 32, '--max-nodata', 1]
    assert kill_when([sys.executable,
                      'tools/dataset_converters/scenes2chips.py', *argv],
                     lambda line: 'chips of 32^2' in line) == -9
    assert [p.name for p in out.iterdir()] == ['.staging']
    printed = chips(capsys, [scene_paths(scene)], out, size=32,
                    max_nodata=1)
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
    with pytest.raises(ValueError, match=r'(?s)scene_A\.tif and .*utm32\.tif'
                       r' are not on the same pixel grid.*EPSG:32632'):
        chips(capsys, [(scene4['a'], other, scene4['label'])],
              tmp_path / 'out')
    assert not (tmp_path / 'out').exists()


def test_png_chips_refuse_uint16(scene4, tmp_path, capsys):
    with pytest.raises(ChipError, match=r'scene_A\.tif: PNG chips hold '
                       r'3-band uint8 .* 4 band\(s\) of uint16'):
        chips(capsys, [scene_paths(scene4)], tmp_path / 'png', fmt='png')


def test_split_by_scene_and_seeded_fractions(scene4, tmp_path, capsys):
    runs = []
    for i in range(2):
        out = tmp_path / f'run{i}'
        printed = chips(capsys, [scene_paths(scene4)], out, size=64,
                        val_fraction=0.2, test_fraction=0.2)
        runs.append({s: sorted(p.name for p in (out / s / 'A').glob('*'))
                     for s in ('train', 'val', 'test')})
        total = sum(map(len, runs[-1].values()))
        assert re.search(rf'wrote {total} chips', printed)
    assert runs[0] == runs[1] and all(runs[0].values())
    out = tmp_path / 'held_out'
    chips(capsys, [(*scene_paths(scene4), 'test')], out, size=64)
    assert not (out / 'train').exists()
    assert len(list((out / 'test/A').glob('*.tif'))) == total


def split_bands(path, folder):
    """The bands of ``path`` as single-band GeoTIFFs b1.tif, b2.tif, ... in
    ``folder``, given as a comma list (a date as band files)."""
    folder.mkdir(parents=True)
    files = []
    with rasterio.open(path) as src:
        profile = dict(src.profile, count=1)
        for i in range(1, src.count + 1):
            files.append(str(folder / f'b{i}.tif'))
            with rasterio.open(files[-1], 'w', **profile) as dst:
                dst.write(src.read(i), 1)
    return ','.join(files)


def test_band_file_scenes_with_the_same_file_names(scene4, tmp_path, capsys):
    """Two scenes given as band files named alike in two folders: each
    scene's chips are kept under its own name, none overwritten."""
    scenes = [(split_bands(scene4['a'], tmp_path / 'A' / name),
               split_bands(scene4['b'], tmp_path / 'B' / name),
               scene4['label'], 'train') for name in ('s1', 's2')]
    one = chips(capsys, [scene_paths(scene4)], tmp_path / 'one', size=64)
    count = int(re.search(r'wrote (\d+) chips', one).group(1))
    chips(capsys, scenes, tmp_path / 'two', size=64)
    names = [p.name for p in (tmp_path / 'two/train/A').glob('*.tif')]
    assert len(names) == 2 * count
    # Named after the first band file's folder and name.
    assert {n.rsplit('_', 2)[0] for n in names} == {'s1_b1', 's2_b1'}
