"""The --pairs runner's policy (seg_plugins/apis/batch.py), the summary and
finishing of a scene's outputs (scene_report.py), tools/infer.py's options
(infer_args.py) and the PNG overlay (png_pair.py), on real files: no model
runs here (tests/tools/test_infer_scene.py runs them through the tool)."""
import numpy as np
import pyogrio
import pytest
import rasterio
from PIL import Image

from seg_plugins.apis.batch import (
    InferSettings,
    OutputPaths,
    SceneBatch,
    line_outputs,
    list_clashes,
    overwrite_or_skip,
    rank_and_world,
    read_pairs,
)
from seg_plugins.apis.infer_args import check_infer_args, infer_parser
from seg_plugins.apis.png_pair import overlay_change
from seg_plugins.apis.scene_report import describe_scene
from tests.geo.scene_fixture import scene_bands, write_tif

SUFFIXES = ('_p.tif', '.gpkg', None)  # probability, polygons, quicklook


def test_pairs_list_lines_outputs_and_clashes(tmp_path):
    """Comments and blank lines skipped; each line's outputs derived from
    OUT; a line whose output is an earlier line's output (its derived
    ones included) or another line's input (a band of a comma list or of
    a .txt list included) clashes, the first to name an output keeps it."""
    t = tmp_path
    (t / 'bands.txt').write_text('# date B of line 5\nb1.tif\nb2.tif\n')
    lst = t / 'pairs.txt'
    lst.write_text(f'# A B OUT\n\n{t}/a.tif {t}/b.tif {t}/o1.tif\n'
                   f'{t}/a.tif {t}/x1.tif,{t}/x2.tif {t}/o1_p.tif\n'
                   f'{t}/c.tif {t}/bands.txt {t}/x2.tif\n'
                   f'{t}/c.tif {t}/d.tif {t}/b2.tif\n'
                   f'{t}/c.tif {t}/d.tif\n'
                   f'{t}/e.tif {t}/f.tif {t}/o8.tif\n')
    lines = read_pairs(str(lst))
    assert [n for n, _ in lines] == [3, 4, 5, 6, 7, 8]
    assert lines[4][1] == [f'{t}/c.tif', f'{t}/d.tif']
    assert line_outputs(f'{t}/o1.tif', SUFFIXES) == OutputPaths(
        f'{t}/o1.tif', f'{t}/o1_p.tif', f'{t}/o1.gpkg', None)
    clashes = list_clashes(lines, SUFFIXES)
    assert clashes == {
        4: f'output {t}/o1_p.tif is also written by line 3',
        5: f'output {t}/x2.tif is an input on line 4',
        6: f'output {t}/b2.tif is an input on line 5',
    }
    # Without the probability suffix line 4's outputs are its own.
    assert 4 not in list_clashes(lines, (None, '.gpkg', None))


def test_overwrite_or_skip_on_existing_outputs(tmp_path, capsys):
    outputs = OutputPaths(*(str(tmp_path / n) for n in
                            ('c.tif', 'p.tif', 'c.gpkg', 'q.png')))
    assert overwrite_or_skip(outputs, False, True, 'w') is True
    assert overwrite_or_skip(outputs, False, False, 'w') is False
    # --resume, nothing there: made, nothing replaced
    assert overwrite_or_skip(outputs, True, False, 'w') is False
    for p in outputs[:2]:
        open(p, 'wb').close()
    assert overwrite_or_skip(outputs, True, False, 'w') is True
    assert capsys.readouterr().out == (
        f'[redo] w: {outputs.polygons}, {outputs.quicklook} missing, so '
        f'{outputs.change}, {outputs.prob} are made again\n')
    for p in outputs[2:]:
        open(p, 'wb').close()
    left = tmp_path / 'c.tif.partial.u8'
    left.write_bytes(b'\0' * 8)
    assert overwrite_or_skip(outputs, True, False, 'w') is None
    assert capsys.readouterr().out == (
        f'[skip] w: done before, its outputs exist ({", ".join(outputs)}); '
        f'removed what a stopped run left: {left}\n')
    assert not left.exists()
    # An output not asked for is not waited for.
    assert overwrite_or_skip(outputs._replace(quicklook=None), True, False,
                             'w') is None


def test_rank_and_world(monkeypatch):
    monkeypatch.setenv('RANK', '2')
    monkeypatch.setenv('WORLD_SIZE', '3')
    assert rank_and_world('pytorch') == (2, 3)
    assert rank_and_world('none') == (0, 1)


def parse(argv):
    parser = infer_parser('test')
    return check_infer_args(parser, parser.parse_args(
        [*argv, '--config', 'c.py', '--checkpoint', 'm.pth']))


def test_infer_options_to_settings(capsys):
    args = parse(['a.tif', 'b.tif', '--out', 'c.tif', '--bands', '3,2,1',
                  '--tile', '128', '--resume', '--label', 'l.tif'])
    settings = InferSettings.from_args(args)
    assert settings == InferSettings(
        tile=128, bands=[3, 2, 1], resume=True, label='l.tif')
    assert settings.radiometric == 'none'  # the option's default: None
    args = parse(['a.tif', 'b.tif', '--out', 'c.tif', '--radiometric',
                  'match'])
    assert InferSettings.from_args(args).radiometric == 'match'
    for argv, error in (
            (['a.png', 'b.png', '--out', 'c.png', '--polygons', 'c.gpkg'],
             '--polygons need a GeoTIFF output'),
            (['a.tif', 'b.tif', '--out', 'c.tif', '--overlay', 'o.png'],
             '--overlay is for PNG outputs'),
            (['--pairs', 'l.txt', '--stac', '--assets', 'red'],
             '--stac takes two items A B (not --pairs)'),
            (['a.tif', '--pairs', 'l.txt'], 'give either A B --out OUT')):
        with pytest.raises(SystemExit):
            parse(argv)
        assert f'error: {error}' in capsys.readouterr().err


SUMMARY = dict(change='c.tif', changed_pixels=30, valid_pixels=120,
               changed_percent=25.0, changed_area_m2=7.5, georeferenced=True,
               crs='EPSG:32631', tiles_run=4, tiles_skipped=1,
               tiles_resumed=0, seconds=2.04, polygons=None, regions=None)


def test_describe_scene():
    assert describe_scene(SUMMARY) == (
        'c.tif: 30 of 120 valid pixels changed (25.00%), 7.5 m^2; 4 tiles '
        'run, 1 skipped (nodata), 2.0 s')
    text = describe_scene(dict(SUMMARY, changed_area_m2=None, crs=None,
                               georeferenced=False, tiles_resumed=3,
                               polygons='c.gpkg', regions=2))
    assert text == (
        'c.tif: 30 of 120 valid pixels changed (25.00%) (no CRS: written '
        'without georeferencing, no area); 4 tiles run, 1 skipped '
        '(nodata), 2.0 s (3 of them by the run resumed)\n'
        '  c.gpkg: 2 regions')
    assert '(no area: LOCAL_CS cannot be placed on Earth)' in describe_scene(
        dict(SUMMARY, changed_area_m2=None, crs='LOCAL_CS'))


def test_resume_finishes_polygons_and_quicklook_from_the_change_map(
        tmp_path, capsys):
    """--resume where the change map exists and its polygons and quicklook
    do not: both made from the map, scored against the label, without a
    model (none is given)."""
    change = np.zeros((1, 64, 64), np.uint8)
    change[0, 4:12, 4:12] = change[0, 30:40, 20:50] = 1
    change[0, 60:] = 255  # nodata
    out = write_tif(tmp_path / 'c.tif', change, nodata=255)
    label = write_tif(tmp_path / 'label.tif', (change == 1).astype(np.uint8))
    b = write_tif(tmp_path / 'b.tif', scene_bands(64, 64, 1))
    outputs = OutputPaths(str(out), None, str(tmp_path / 'c.gpkg'),
                          str(tmp_path / 'q.png'))
    batch = SceneBatch(None, InferSettings(resume=True, label=str(label)))
    assert batch.run(str(tmp_path / 'a.tif'), str(b), outputs,
                     where='l.txt:3') == {}
    log = capsys.readouterr().out
    assert log.startswith(f'[finish] l.txt:3: {out} done before; making '
                          f'{outputs.polygons}, {outputs.quicklook} from it')
    assert f'{outputs.polygons}: 2 regions' in log
    assert f'vs {label}: F1 100.00 precision 100.00 recall 100.00' in log
    assert pyogrio.read_info(outputs.polygons)['features'] == 2
    quicklook = np.asarray(Image.open(outputs.quicklook))
    assert quicklook.shape == (64, 64, 3)
    red = quicklook[..., 0].astype(int) - quicklook[..., 1]
    assert red[5, 5] > 100 and red[50, 10] == 0  # changed, unchanged
    with rasterio.open(out) as src:  # the map itself untouched
        np.testing.assert_array_equal(src.read(), change)
    # Everything there now: the pair is skipped.
    assert batch.run(str(tmp_path / 'a.tif'), str(b), outputs) is None
    assert capsys.readouterr().out.startswith(f'[skip] {out}: done before')


def test_overlay_change_blends_changed_pixels_towards_red():
    img = np.full((2, 3, 4), 100, np.uint8)  # a 4th band is not drawn
    change = np.array([[0, 1, 0], [1, 0, 0]], np.uint8)
    got = overlay_change(img, change, alpha=0.5)
    assert got.shape == (2, 3, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[0, 1], [50, 50, 177])  # BGR
    np.testing.assert_array_equal(got[0, 0], [100, 100, 100])
