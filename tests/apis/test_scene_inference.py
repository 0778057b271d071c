"""infer_change_scene on real GeoTIFF pairs written in the test."""
import warnings

import numpy as np
import pytest
import rasterio
from PIL import Image

from seg_plugins.apis import infer_change, infer_change_scene
from seg_plugins.geo.grid import GridMismatchError
from seg_plugins.geo.tiling import tile_windows
from tests.geo.scene_fixture import (
    scene_bands,
    transform,
    write_tif,
)

TILE, OVERLAP, BATCH = 64, 16, 3


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """A 3-band pair of 544 x 520 (more than one COG block, so the COG
    has overviews); also as PNGs of the same pixels."""
    root = tmp_path_factory.mktemp('scene')
    a, b = scene_bands(544, 520, 1), scene_bands(544, 520, 2)
    b[:, 100:200, 300:420] = a[:, 100:200, 300:420]  # unchanged part
    paths = dict(a=write_tif(root / 'a.tif', a), b=write_tif(root / 'b.tif',
                                                             b))
    for name, bands in (('a', a), ('b', b)):
        Image.fromarray(bands.transpose(1, 2, 0)).save(root / f'{name}.png')
    return root, paths, a, b


def run(model, a, b, out, **kwargs):
    kwargs = dict(dict(tile=TILE, overlap=OVERLAP, batch_size=BATCH),
                  **kwargs)
    return infer_change_scene(model, str(a), str(b), str(out), **kwargs)


def read(path):
    with rasterio.open(path) as src:
        return src.read(1)


@pytest.mark.parametrize('take_turns', [False, True])
def test_cog_on_a_grid_equal_to_infer_change(tiny, scene, tmp_path,
                                             take_turns):
    model = tiny[0]
    root, paths, _, _ = scene
    summary = run(model, paths['a'], paths['b'], tmp_path / 'change.tif',
                  prob_out=tmp_path / 'prob.tif', take_turns=take_turns)
    assert summary['took_turns'] is take_turns
    change_ref, prob_ref = infer_change(model, str(root / 'a.png'),
                                        str(root / 'b.png'), TILE, OVERLAP,
                                        BATCH)
    assert 0 < change_ref.sum() < change_ref.size  # not a trivial map
    with rasterio.open(paths['a']) as a, rasterio.open(
            tmp_path / 'change.tif') as out:
        assert out.crs == a.crs and out.transform == a.transform
        assert (out.width, out.height) == (a.width, a.height)
        assert out.nodata == 255 and out.dtypes == ('uint8', )
        assert out.tags(ns='IMAGE_STRUCTURE')['LAYOUT'] == 'COG'
        assert out.overviews(1) and out.profile['tiled']
        np.testing.assert_array_equal(out.read(1), change_ref)
    np.testing.assert_array_equal(read(tmp_path / 'prob.tif'), prob_ref)
    assert summary['changed_pixels'] == int(change_ref.sum())
    assert summary['valid_pixels'] == change_ref.size
    assert summary['changed_area_m2'] == pytest.approx(
        0.25 / 0.9996**2 * change_ref.sum(), rel=1e-5)  # UTM's scale
    assert summary['tiles_skipped'] == 0
    assert summary['tiles_run'] == len(list(tile_windows(544, 520, TILE,
                                                         OVERLAP)))
    # Where the time went besides the model: each part inside the run's.
    for key in ('read_cpu_seconds', 'write_cpu_seconds', 'commit_seconds'):
        assert 0 < summary[key] < summary['seconds'], key
    # Nothing else left beside the outputs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ['change.tif',
                                                          'prob.tif']


@pytest.mark.parametrize('take_turns', [False, True])
def test_nodata_propagates_and_empty_tiles_are_not_run(tiny, tmp_path,
                                                      take_turns):
    model = tiny[0]
    h, w = 200, 180
    a, b = scene_bands(h, w, 3), scene_bands(h, w, 4)
    valid_a = np.ones((h, w), bool)
    valid_a[:, :100] = False  # nodata value 0 in A
    a[:, ~valid_a] = 0
    valid_b = np.ones((h, w), bool)
    valid_b[150:, :] = False  # an internal mask in B
    valid_b[20:30, 120:125] = False
    write_tif(tmp_path / 'a.tif', a, nodata=0)
    write_tif(tmp_path / 'b.tif', b, mask=valid_b)
    batches, done = [], []
    hook = model.backbone.register_forward_hook(
        lambda m, args, out: batches.append(args[0].shape[0]))
    try:
        summary = run(model, tmp_path / 'a.tif', tmp_path / 'b.tif',
                      tmp_path / 'c.tif', prob_out=tmp_path / 'p.tif',
                      progress=done.append, take_turns=take_turns)
    finally:
        hook.remove()
    valid = valid_a & valid_b
    change = read(tmp_path / 'c.tif')
    np.testing.assert_array_equal(change == 255, ~valid)
    assert set(np.unique(change[valid])) <= {0, 1}
    with rasterio.open(tmp_path / 'p.tif') as prob:
        np.testing.assert_array_equal(prob.read_masks(1) > 0, valid)
    wanted = [valid[cr, cc].any()
              for _, _, cr, cc in tile_windows(h, w, TILE, OVERLAP)]
    assert summary['tiles_run'] == sum(wanted) == sum(batches)
    assert summary['tiles_skipped'] == len(wanted) - sum(wanted) > 0
    # Skipped tiles never reach the model's thread, but the progress
    # callback still counts them, every tile once.
    assert sum(done) == len(wanted) and min(done) > 0
    assert summary['valid_pixels'] == valid.sum()


@pytest.mark.parametrize('kind', ['nan', 'undeclared_nan', 'sentinel',
                                  'mask'])
def test_the_model_sees_nodata_as_zero(tiny, tmp_path, kind):
    """However a scene marks its nodata (NaN, declared or not; a value such
    as 65535; an internal mask over any values), the outputs are those of
    the same scene with 0 there and nodata 0: the model never sees what is
    stored. A NaN would spread through every convolution that touches it
    (valid pixels around a hole came out 'unchanged')."""
    h, w = 150, 140
    dtype = np.uint16 if kind == 'sentinel' else np.float32
    dates = [scene_bands(h, w, seed, dtype=np.uint16).astype(dtype)
             for seed in (5, 6)]
    holes = [np.zeros((h, w), bool), np.zeros((h, w), bool)]
    holes[0][:, :20] = True
    holes[0][60:70, 60:75] = True  # inside tiles that are run
    holes[1][100:108, 30:50] = True
    refs, paths = [], []
    for i, (data, hole) in enumerate(zip(dates, holes)):
        ref = data.copy()
        ref[:, hole] = 0
        refs.append(write_tif(tmp_path / f'ref{i}.tif', ref, nodata=0))
        stored = data.copy()
        stored[:, hole] = {'nan': np.nan, 'undeclared_nan': np.nan,
                           'sentinel': 65535, 'mask': 3000}[kind]
        paths.append(write_tif(
            tmp_path / f'{i}.tif', stored,
            nodata={'nan': np.nan, 'sentinel': 65535}.get(kind),
            mask=~hole if kind == 'mask' else None))
    outs = {}
    for name, (a, b) in (('ref', refs), ('stored', paths)):
        run(tiny[0], a, b, tmp_path / f'{name}_c.tif',
            prob_out=tmp_path / f'{name}_p.tif')
        outs[name] = [read(tmp_path / f'{name}_{o}.tif') for o in 'cp']
    change = outs['ref'][0]
    assert (change == 255).sum() == (holes[0] | holes[1]).sum()
    assert 0 < (change == 1).sum() < (change != 255).sum()
    for ref, got in zip(outs['ref'], outs['stored']):
        np.testing.assert_array_equal(got, ref)


def test_align_resamples_a_shifted_b(tiny, tmp_path):
    """B on a grid moved 5 px east and 3 px south: aligned, the result is
    the co-registered pair's away from the strip B does not cover."""
    model = tiny[0]
    h, w, dx, dy = 160, 150, 5, 3
    a, b = scene_bands(h, w, 5), scene_bands(h + dy, w + dx, 6)
    write_tif(tmp_path / 'a.tif', a)
    write_tif(tmp_path / 'b.tif', b[:, :h, :w])
    # Pixel (r, c) of the shifted B is (r + dy, c + dx) of A's grid.
    write_tif(tmp_path / 'b_shift.tif', b[:, dy:, dx:],
              geotransform=transform(dx, dy))
    ref = run(model, tmp_path / 'a.tif', tmp_path / 'b.tif',
              tmp_path / 'ref.tif')
    with pytest.raises(GridMismatchError, match='align'):
        run(model, tmp_path / 'a.tif', tmp_path / 'b_shift.tif',
            tmp_path / 'no.tif')
    assert not (tmp_path / 'no.tif').exists()
    aligned = run(model, tmp_path / 'a.tif', tmp_path / 'b_shift.tif',
                  tmp_path / 'aligned.tif', align=True)
    got, want = read(tmp_path / 'aligned.tif'), read(tmp_path / 'ref.tif')
    # Outside B's footprint: nodata. Tiles that see no missing pixel:
    # identical.
    assert (got[:dy] == 255).all() and (got[:, :dx] == 255).all()
    np.testing.assert_array_equal(got[TILE:, TILE:], want[TILE:, TILE:])
    assert aligned['valid_pixels'] == (h - dy) * (w - dx)
    assert ref['valid_pixels'] == h * w


def test_band_selection_uint16_and_band_count_check(tiny, tmp_path):
    model = tiny[0]
    a = scene_bands(96, 80, 7, count=4, dtype=np.uint16)
    b = scene_bands(96, 80, 8, count=4, dtype=np.uint16)
    write_tif(tmp_path / 'a.tif', a)
    write_tif(tmp_path / 'b.tif', b)
    with pytest.raises(ValueError) as e:
        run(model, tmp_path / 'a.tif', tmp_path / 'b.tif', tmp_path / 'c.tif')
    msg = str(e.value)
    assert 'a.tif gives 4 bands' in msg and 'expects 3' in msg
    assert 'in_channels' in msg
    # uint16 to a config whose mean is for 0-255: runs, and says so
    with pytest.warns(UserWarning, match=r'a.tif holds uint16 values but '
                      r'.*mean \(up to 123.675\) is for 0-255'):
        summary = run(model, tmp_path / 'a.tif', tmp_path / 'b.tif',
                      tmp_path / 'c.tif', bands=[1, 2, 4])
    assert summary['valid_pixels'] == 96 * 80
    write_tif(tmp_path / 'a8.tif', (a[:3] // 16).astype(np.uint8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        run(model, tmp_path / 'a8.tif', tmp_path / 'a8.tif',
            tmp_path / 'c8.tif')
    assert not [w for w in caught if 'values but' in str(w.message)]
    # The bands read are 1, 2, 4 of each date, values as stored (uint16).
    from seg_plugins.geo.raster_pair import RasterPair
    with RasterPair(str(tmp_path / 'a.tif'), str(tmp_path / 'b.tif'),
                    bands=[1, 2, 4]) as pair:
        img_a, img_b, valid = pair.read(slice(-4, 20), slice(70, 90))
    assert img_a.dtype == np.uint16 and img_a.shape == (24, 20, 3)
    # 3 bands: handed over reversed, as cv2 gives BGR.
    np.testing.assert_array_equal(img_a[4:, :10],
                                  a[[3, 1, 0], :20, 70:].transpose(1, 2, 0))
    assert not valid[:4].any() and not valid[:, 10:].any()
    assert valid[4:, :10].all() and (img_a[:4] == 0).all()
    with pytest.raises(ValueError, match='a.tif has 4 bands.*band 5'):
        RasterPair(str(tmp_path / 'a.tif'), str(tmp_path / 'b.tif'),
                   bands=[1, 2, 5])


def test_grids_that_differ_are_one_error_naming_both(tiny, tmp_path):
    model = tiny[0]
    a = scene_bands(64, 64, 9)
    write_tif(tmp_path / 'a.tif', a)
    write_tif(tmp_path / 'b.tif', a, crs='EPSG:32632')
    write_tif(tmp_path / 'small.tif', a[:, :60])
    for other, detail in (('b.tif', 'EPSG:32632'), ('small.tif', '64x60 px')):
        with pytest.raises(GridMismatchError) as e:
            run(model, tmp_path / 'a.tif', tmp_path / other,
                tmp_path / 'c.tif')
        msg = str(e.value)
        assert 'a.tif' in msg and other in msg and detail in msg
        assert 'EPSG:32631, 64x64 px' in msg and '--align' in msg
    assert not (tmp_path / 'c.tif').exists()


def test_not_a_raster(tiny, tmp_path):
    (tmp_path / 'notes.tif').write_text('not an image')
    write_tif(tmp_path / 'b.tif', scene_bands(64, 64, 1))
    with pytest.raises(ValueError, match='cannot read .*notes.tif as a '
                       'raster'):
        run(tiny[0], tmp_path / 'notes.tif', tmp_path / 'b.tif',
            tmp_path / 'c.tif')
    with pytest.raises(ValueError, match='missing.tif'):
        run(tiny[0], tmp_path / 'b.tif', tmp_path / 'missing.tif',
            tmp_path / 'c.tif')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['b.tif',
                                                          'notes.tif']


def test_no_crs_works_without_georeferencing_and_says_so(tiny, tmp_path):
    a, b = scene_bands(64, 70, 1), scene_bands(64, 70, 2)
    write_tif(tmp_path / 'a.tif', a, crs=None)
    write_tif(tmp_path / 'b.tif', b, crs=None)
    with pytest.warns(UserWarning, match='a.tif has no CRS'):
        summary = run(tiny[0], tmp_path / 'a.tif', tmp_path / 'b.tif',
                      tmp_path / 'c.tif')
    assert not summary['georeferenced'] and summary['changed_area_m2'] is None
    with rasterio.open(tmp_path / 'c.tif') as out:
        assert out.crs is None and (out.width, out.height) == (70, 64)


def test_existing_output_is_refused_unless_overwrite(tiny, scene, tmp_path):
    _, paths, _, _ = scene
    out = tmp_path / 'c.tif'
    out.write_bytes(b'keep me')
    with pytest.raises(FileExistsError, match='c.tif exists.*overwrite'):
        run(tiny[0], paths['a'], paths['b'], out, tile=256)
    assert out.read_bytes() == b'keep me'
    run(tiny[0], paths['a'], paths['b'], out, tile=256, overwrite=True)
    assert read(out).shape == (544, 520)


def test_an_output_that_is_an_input_is_refused(tiny, scene, tmp_path):
    """Even with overwrite (it replaced date A), through a link too; and
    one path given for two outputs."""
    _, paths, _, _ = scene
    link = tmp_path / 'a_link.tif'
    link.symlink_to(paths['a'])
    before = paths['a'].read_bytes()
    for out in (paths['a'], link):
        with pytest.raises(ValueError, match='is the input'):
            run(tiny[0], paths['a'], paths['b'], out, overwrite=True)
    assert paths['a'].read_bytes() == before
    with pytest.raises(ValueError, match='given twice'):
        run(tiny[0], paths['a'], paths['b'], tmp_path / 'c.tif',
            prob_out=tmp_path / 'c.tif')
    assert list(tmp_path.iterdir()) == [link]


def test_an_output_that_cannot_be_written_leaves_nothing(tiny, scene,
                                                         tmp_path):
    """A file where an output's folder should be is refused before any
    work; an output that fails to open (a folder in the way of its raw
    file, as a full disk or a read-only folder) takes the other output's
    raw files with it."""
    _, paths, _, _ = scene
    with pytest.raises(ValueError, match=r'a\.tif is a file, not a folder'):
        run(tiny[0], paths['a'], paths['b'], tmp_path / 'c.tif',
            prob_out=paths['a'] / 'p.tif')
    (tmp_path / 'p.tif.partial.u8').mkdir()
    with pytest.raises(OSError, match=r'p\.tif\.partial\.u8'):
        run(tiny[0], paths['a'], paths['b'], tmp_path / 'c.tif',
            prob_out=tmp_path / 'p.tif')
    assert [p.name for p in tmp_path.iterdir()] == ['p.tif.partial.u8']


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16, np.float64])
def test_predict_tiles_takes_the_dates_apart_or_concatenated(tiny, dtype):
    """The dates' arrays (as the scene reader hands them over) give the
    model the same input as their channels concatenated; types other than
    uint8 reach it as float32 with their values."""
    from seg_plugins.apis.change_inference import model_input, predict_tiles
    a, b = (scene_bands(40, 48, s).transpose(1, 2, 0)[:, 3:43].astype(dtype)
            for s in (5, 6))  # column slices: not contiguous
    joined = np.concatenate((a, b), axis=2)
    x = model_input((a, b)).numpy()
    assert x.dtype == (np.uint8 if dtype == np.uint8 else np.float32)
    np.testing.assert_array_equal(x,
                                  joined.transpose(2, 0, 1).astype(x.dtype))
    apart = predict_tiles(tiny[0], [(a, b)])[0]
    together = predict_tiles(tiny[0], [joined])[0]
    for got, want in zip(apart, together):
        np.testing.assert_array_equal(got, want)
