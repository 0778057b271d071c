"""tools/infer.py and tools/dist_infer.sh on GeoTIFF scene pairs."""
import json
import os
import re
import signal
import sys

import numpy as np
import pyogrio
import pytest
import rasterio
from PIL import Image

from seg_plugins.apis import tile_windows
from seg_plugins.geo.compare import score_change
from tests.conftest import kill_when, run_cmd, run_tool, signal_when
from tests.geo.scene_fixture import (
    assert_same_raster,
    scene_bands,
    write_tif,
    write_tiny_model,
)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes')
    config, ckpt = write_tiny_model(root)
    pairs = []
    for i in range(3):
        a = write_tif(root / f'a{i}.tif', scene_bands(130, 120, 2 * i))
        b = write_tif(root / f'b{i}.tif', scene_bands(130, 120, 2 * i + 1))
        pairs.append((a, b))
    rng = np.random.default_rng(0)
    label = write_tif(root / 'label.tif',
                      (rng.random((1, 130, 120)) < 0.3).astype(np.uint8))
    return root, ['--config', config, '--checkpoint', ckpt, '--tile', '64',
                  '--overlap', '16'], pairs, label


def test_scene_outputs_summary_and_scores(setup, tmp_path):
    root, model, pairs, label = setup
    (a, b), out = pairs[0], tmp_path / 'change.tif'
    log = run_tool('tools/infer.py', a, b, *model, '--out', out, '--prob',
                   tmp_path / 'prob.tif', '--polygons', tmp_path / 'c.gpkg',
                   '--quicklook', tmp_path / 'ql.png', '--label', label)
    # progress (not a terminal): plain lines with rate and ETA
    assert re.search(r'^9/9, 100%, [\d.]+ tiles/s, .*ETA', log, re.M)
    with rasterio.open(out) as src, rasterio.open(a) as src_a:
        change = src.read(1)
        assert src.crs == src_a.crs and src.transform == src_a.transform
    n = int(change.sum())
    assert f'{n} of {130 * 120} valid pixels changed' in log
    area = float(re.search(r'changed \([\d.]+%\), ([\d.]+) m\^2', log)[1])
    assert area == pytest.approx(0.25 / 0.9996**2 * n, abs=0.05)  # UTM
    assert '9 tiles run, 0 skipped' in log
    regions = int(re.search(r'c.gpkg: (\d+) regions', log).group(1))
    assert regions > 0
    s = score_change(str(out), str(label))
    assert f'F1 {s["f1"]:.2f} precision {s["precision"]:.2f}' in log
    assert np.asarray(Image.open(tmp_path / 'ql.png')).shape == (130, 120, 3)
    assert (tmp_path / 'prob.tif').exists()


def test_existing_output_refused_without_overwrite(setup, tmp_path):
    _, model, pairs, _ = setup
    out = tmp_path / 'change.tif'
    out.write_bytes(b'old')
    log = run_tool('tools/infer.py', *pairs[0], *model, '--out', out,
                   expect_fail=True)
    assert 'change.tif exists' in log and '--overwrite' in log
    assert 'Traceback' not in log and out.read_bytes() == b'old'
    # Reusing freed memory (glibc; the default) changes speed, not results
    log = run_tool('tools/infer.py', *pairs[0], *model, '--out', out,
                   '--overwrite', '--reuse-memory')
    assert 'not applied' not in log
    tunable = dict(MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    # not applied where the user set a glibc tunable: said when asked for,
    # silent by default
    plain = tmp_path / 'plain.tif'
    log = run_tool('tools/infer.py', *pairs[0], *model, '--out', plain,
                   '--reuse-memory', env=tunable)
    assert '--reuse-memory not applied' in log
    default = tmp_path / 'default.tif'
    log = run_tool('tools/infer.py', *pairs[0], *model, '--out', default,
                   env=tunable)
    assert 'not applied' not in log
    off = tmp_path / 'off.tif'
    run_tool('tools/infer.py', *pairs[0], *model, '--out', off,
             '--no-reuse-memory')
    with rasterio.open(out) as src:
        assert src.shape == (130, 120)
    for ref in (plain, default, off):
        assert_same_raster(out, ref)


def test_bad_inputs_are_one_clear_line(setup, tmp_path):
    root, model, pairs, _ = setup
    (tmp_path / 'junk.tif').write_text('junk')
    log = run_tool('tools/infer.py', tmp_path / 'junk.tif', pairs[0][1],
                   *model, '--out', tmp_path / 'c.tif', expect_fail=True)
    assert 'junk.tif as a raster' in log and 'Traceback' not in log
    log = run_tool('tools/infer.py', *pairs[0], *model, '--out',
                   tmp_path / 'c.tif', '--bands', '1,2', expect_fail=True)
    assert 'gives 2 bands per date' in log and 'expects 3' in log
    assert not (tmp_path / 'c.tif').exists()
    # --out naming date A: refused whatever the flags (it replaced A)
    before = open(pairs[0][0], 'rb').read()
    for flag in ('--overwrite', '--resume'):
        log = run_tool('tools/infer.py', *pairs[0], *model, '--out',
                       pairs[0][0], flag, expect_fail=True)
        assert f'output {pairs[0][0]} is the input' in log
        assert 'Traceback' not in log and '[skip]' not in log
    assert open(pairs[0][0], 'rb').read() == before


def test_pairs_list_reports_a_missing_file_and_does_the_rest(setup,
                                                             tmp_path):
    _, model, pairs, _ = setup
    lst = tmp_path / 'pairs.txt'
    lines = [f'{a} {b} {tmp_path}/out{i}.tif' for i, (a, b) in
             enumerate(pairs[:2])]
    lines.insert(1, f'{pairs[2][0]} {tmp_path}/nope.tif {tmp_path}/x.tif')
    # Outputs that clash across lines: run, they would be written twice
    # (by two ranks at once), or over another pair's input.
    lines.append(f'{pairs[1][0]} {pairs[0][1]} {tmp_path}/out0.tif')
    lines.append(f'{pairs[0][0]} {pairs[1][1]} {pairs[2][0]}')
    # Outputs that cannot be written: a file where the folder should be,
    # a folder where the raw file goes (an OSError, as a full disk).
    lines.append(f'{pairs[0][0]} {pairs[0][1]} {pairs[0][0]}/out.tif')
    (tmp_path / 'out7.tif.partial.u8').mkdir()
    lines.append(f'{pairs[1][0]} {pairs[1][1]} {tmp_path}/out7.tif')
    lst.write_text('# A B OUT\n' + '\n'.join(lines) + '\n')
    before = open(pairs[2][0], 'rb').read()
    log = run_tool('tools/infer.py', '--pairs', lst, *model, '--polygons',
                   '.gpkg', expect_fail=True)
    assert re.search(r'pairs.txt:3: .*nope.tif not found', log)
    assert re.search(r'pairs.txt:5: output \S*out0.tif is also written by '
                     'line 2', log)
    assert re.search(r'pairs.txt:6: output \S*a2.tif is an input on line '
                     '3', log)
    assert re.search(rf'pairs.txt:7: output \S*a0.tif/out.tif: '
                     rf'{re.escape(str(pairs[0][0]))} is a file, not a '
                     'folder', log)
    assert re.search(r'pairs.txt:8: .*out7.tif.partial.u8', log)
    assert 'Traceback' not in log
    assert '5 pair(s) failed' in log
    assert len(re.findall(r'out0\.tif: \d+ of', log)) == 1
    assert open(pairs[2][0], 'rb').read() == before
    for i in range(2):
        assert (tmp_path / f'out{i}.tif').exists()
        assert (tmp_path / f'out{i}.gpkg').exists()
    assert not (tmp_path / 'x.tif').exists()


def test_dist_infer_two_ranks_write_each_output_once(setup, tmp_path):
    _, model, pairs, _ = setup
    lst = tmp_path / 'pairs.txt'
    lst.write_text(''.join(f'{a} {b} {tmp_path}/out{i}.tif\n'
                           for i, (a, b) in enumerate(pairs)))
    log = run_cmd(['bash', 'tools/dist_infer.sh', lst, '2', *model],
                  env={'PORT': '29537'})
    assert 'rank 0/2: 2 of 2 pairs done' in log
    assert 'rank 1/2: 1 of 1 pairs done' in log
    for i in range(3):
        # One summary line per output: written by exactly one rank.
        assert len(re.findall(rf'out{i}\.tif: \d+ of', log)) == 1
        with rasterio.open(tmp_path / f'out{i}.tif') as src:
            assert src.shape == (130, 120)


def test_pairs_killed_then_rerun_with_resume(setup, tmp_path):
    """A --pairs run killed (SIGKILL) in its second pair, rerun with
    --resume: the finished pair is not touched, the stopped one goes on
    from its saved progress, the last is done; a pair left with an output
    missing is made again."""
    _, model, pairs, _ = setup
    big = [write_tif(tmp_path / f'{name}.tif', scene_bands(640, 640, seed))
           for name, seed in (('a_big', 20), ('b_big', 21))]
    lst = tmp_path / 'pairs.txt'
    lst.write_text(''.join(
        f'{a} {b} {tmp_path}/out{i}.tif\n'
        for i, (a, b) in enumerate([pairs[0], big, pairs[1]])))
    cmd = ['tools/infer.py', '--pairs', lst, *model, '--polygons', '.gpkg',
           '--quicklook', '.png']
    record = tmp_path / 'out1.tif.partial.json'
    assert kill_when([sys.executable, *cmd, '--checkpoint-seconds', '0'],
                     lambda line: record.exists()) == -9
    first = {p: os.stat(p) for p in tmp_path.glob('out0.*')}
    assert sorted(p.suffix for p in first) == ['.gpkg', '.png', '.tif']
    # Nothing under a final name, only the stopped pair's partial files.
    assert sorted(p.name for p in tmp_path.glob('out[12].*')) == [
        'out1.tif.partial.json', 'out1.tif.partial.u8']
    saved = json.loads(record.read_text())['done']

    log = run_tool(*cmd, '--resume')
    assert f'[skip] {lst}:1: ' in log
    assert f'[resume] {lst}:2: {saved} of 169 tiles done before' in log
    assert '169 tiles run, 0 skipped (nodata)' in log
    assert f'({saved} of them by the run resumed)' in log
    assert '3 of 3 pairs done (1 done before)' in log
    for path, st in first.items():
        assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (
            st.st_ino, st.st_mtime_ns), f'{path} was written again'
    with rasterio.open(tmp_path / 'out1.tif') as src:
        assert src.shape == (640, 640)
    assert not list(tmp_path.glob('*.partial*'))  # the killed run's, gone

    # A run stopped while making a pair's polygons and quicklook: they are
    # made from its change map, which is not made again.
    change = os.stat(tmp_path / 'out2.tif')
    regions = pyogrio.read_info(tmp_path / 'out2.gpkg')['features']
    for suffix in ('gpkg', 'png'):
        (tmp_path / f'out2.{suffix}').unlink()
    log = run_tool(*cmd, '--resume')
    assert re.search(rf'\[finish\] {re.escape(str(lst))}:3: \S*out2.tif '
                     r'done before; making \S*out2.gpkg, \S*out2.png', log)
    assert f'out2.gpkg: {regions} regions' in log
    assert '3 of 3 pairs done (2 done before)' in log
    assert pyogrio.read_info(tmp_path / 'out2.gpkg')['features'] == regions
    assert (tmp_path / 'out2.png').exists()
    assert os.stat(tmp_path / 'out2.tif').st_mtime_ns == change.st_mtime_ns
    # With the change map gone, the pair is made again, all of it.
    (tmp_path / 'out2.tif').unlink()
    log = run_tool(*cmd, '--resume')
    assert re.search(rf'\[redo\] {re.escape(str(lst))}:3: \S*out2.tif '
                     'missing', log)
    assert os.stat(tmp_path / 'out2.gpkg').st_mtime_ns > change.st_mtime_ns
    log = run_tool(*cmd, '--resume', '--overwrite', expect_fail=True)
    assert 'exclude each other' in log


def test_sigterm_saves_the_scene_and_stops_the_list(setup, tmp_path):
    """SIGTERM (a cluster's time limit) in a --pairs run's second pair,
    with no periodic checkpoint due (--checkpoint-seconds 60): the tiles
    done are saved, exit code 75, the third pair is not started; rerun
    with --resume, the stopped pair runs only the rest and ends as a run
    never stopped."""
    _, model, pairs, _ = setup
    big = [write_tif(tmp_path / f'{name}.tif', scene_bands(960, 960, seed))
           for name, seed in (('a_big', 30), ('b_big', 31))]
    tiles = len(list(tile_windows(960, 960, 64, 16)))  # 2-3 s of work
    lst = tmp_path / 'pairs.txt'
    lst.write_text(''.join(
        f'{a} {b} {tmp_path}/out{i}.tif\n'
        for i, (a, b) in enumerate([pairs[0], big, pairs[1]])))
    cmd = ['tools/infer.py', '--pairs', lst, *model, '--prob', '_p.tif']
    shown = []

    def in_second_pair(line):  # progress: "40/400, 10%, ..."
        m = re.search(rf'(\d+)/{tiles},', line)
        shown.append(int(m[1]) if m else 0)
        return shown[-1] >= 8

    rc, log = signal_when([sys.executable, *cmd], in_second_pair,
                          signal.SIGTERM)
    assert rc == 75, log[-3000:]
    assert '[signal] SIGTERM: stopping at the next tile' in log
    m = re.search(rf'\[stopped\] {re.escape(str(lst))}:2: SIGTERM; '
                  rf'(\d+) of {tiles} tiles saved', log)
    assert m, log[-3000:]
    record = json.loads((tmp_path / 'out1.tif.partial.json').read_text())
    assert record["done"] == int(m[1]) >= max(shown)  # none lost
    assert not list(tmp_path.glob('out2*'))  # not started
    assert not (tmp_path / 'out1.tif').exists()

    log = run_tool(*cmd, '--resume')
    done = record['done']
    assert f'[resume] {lst}:2: {done} of {tiles} tiles done' in log
    assert '3 of 3 pairs done (1 done before)' in log
    run_tool('tools/infer.py', *big, *model, '--out', tmp_path / 'ref.tif',
             '--prob', tmp_path / 'ref_p.tif')
    assert_same_raster(tmp_path / 'out1.tif', tmp_path / 'ref.tif')
    assert_same_raster(tmp_path / 'out1_p.tif', tmp_path / 'ref_p.tif')
    assert not list(tmp_path.glob('*.partial*'))


# tools/infer.py, held still in its last cleanup (after both COGs are
# under their names, before their raw files are removed) to be killed there.
IN_CLEANUP = """
import runpy, sys, time
from seg_plugins.geo.cog import COGWriter

def clean_and_wait(self):
    print('cleaning', flush=True)
    time.sleep(60)

COGWriter.clean = clean_and_wait
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def test_resume_removes_what_a_run_killed_in_its_cleanup_left(setup,
                                                              tmp_path):
    _, model, pairs, _ = setup
    out, prob = tmp_path / 'c.tif', tmp_path / 'p.tif'
    cmd = ['tools/infer.py', *pairs[0], *model, '--out', out, '--prob',
           prob, '--checkpoint-seconds', '0']
    assert kill_when([sys.executable, '-c', IN_CLEANUP, *cmd],
                     lambda line: 'cleaning' in line) == -9
    done = {p: p.stat().st_mtime_ns for p in (out, prob)}
    left = sorted(tmp_path.glob('*.partial*'))
    assert tmp_path / 'c.tif.partial.json' in left
    assert tmp_path / 'p.tif.partial.mask.u8' in left

    log = run_tool(*cmd, '--resume')
    assert (f'[skip] {out}: done before, its outputs exist ({out}, {prob})'
            f'; removed what a stopped run left: ') in log
    assert all(str(p) in log for p in left)
    assert not list(tmp_path.glob('*.partial*'))
    assert {p: p.stat().st_mtime_ns for p in (out, prob)} == done


@pytest.mark.parametrize('tool', ['tools/infer.py',
                                  'tools/dataset_converters/scenes2chips.py'])
def test_help_prints_the_commands_as_written(tool):
    """The example commands in ``--help`` can be pasted into a shell: their
    line continuations are printed, not joined into runs of spaces."""
    description = run_tool(tool, '--help').split('options:')[0]
    assert re.search(r'^ {4}python tools/.* \\\n {8}--', description,
                     re.M)
    assert not re.search(r'\S {4,}--', description)
