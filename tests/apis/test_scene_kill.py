"""A scene run killed (SIGKILL) while writing leaves no file under the
final names; the next run cleans up and completes, or resumes where the
killed one got to and gives the same result."""
import itertools
import json
import subprocess
import sys
import time

import numpy as np
import pytest
import rasterio

from tests.conftest import REPO, kill_when
from tests.geo.scene_fixture import (
    assert_same_raster,
    scene_bands,
    write_tif,
    write_tiny_model,
)

SCRIPT = """
import json, sys, time
from seg_plugins.apis import infer_change_scene, init_change_model
config, ckpt, a, b, out, prob, opts = sys.argv[1:]
opts = json.loads(opts)
pause = opts.pop('pause', 0)
model = init_change_model(config, ckpt)
if opts.pop('stop_after_replace', False):  # hold still to be killed there
    from seg_plugins.geo.cog import COGWriter
    replace = COGWriter.replace

    def replace_and_wait(self):
        print('replaced', replace(self), flush=True)
        time.sleep(60)
    COGWriter.replace = replace_and_wait

def slow(n):  # a long run, made long on purpose
    print('tiles', n, flush=True)
    time.sleep(pause)

s = infer_change_scene(model, a, b, out, prob_out=prob,
                       **dict(dict(tile=64, overlap=16, batch_size=1), **opts),
                       progress=slow)
print('summary', json.dumps({k: v for k, v in s.items()
                             if isinstance(v, (int, float))}), flush=True)
"""


@pytest.fixture
def scene(tmp_path):
    """A pair with nodata (A's left third), whose tiles the writer gets
    out of order with the run ones; the tiny model; outputs' paths."""
    config, ckpt = write_tiny_model(tmp_path)
    a = scene_bands(240, 240, 1)
    a[:, :, :80] = 0
    write_tif(tmp_path / 'a.tif', a, nodata=0)
    write_tif(tmp_path / 'b.tif', scene_bands(240, 240, 2))
    return [sys.executable, '-c', SCRIPT, config, ckpt, tmp_path / 'a.tif',
            tmp_path / 'b.tif']


def run(scene, out, prob, **opts) -> dict:
    done = subprocess.run([str(x) for x in scene + [out, prob]] +
                          [json.dumps(opts)], cwd=REPO, timeout=300,
                          stdout=subprocess.PIPE, text=True)
    assert done.returncode == 0
    return json.loads(done.stdout.split('summary ')[-1])


def kill_after(scene, out, prob, tiles: int, **opts) -> None:
    """SIGKILL a slowed-down run after ``tiles`` progress calls, and once
    it has saved its progress if it saves at every tile."""
    seen = itertools.count(1)
    record = out.with_name(out.name + '.partial.json')
    saves = opts.get('checkpoint_seconds') == 0
    assert kill_when(
        scene + [out, prob, json.dumps(dict(pause=0.3, **opts))],
        lambda line: line.startswith('tiles') and next(seen) >= tiles
        and (record.exists() or not saves)) == -9


def same_as_reference(out, prob, ref_dir):
    """Both outputs equal the reference run's (ref.tif, ref_p.tif), and
    nothing else is left beside them."""
    assert_same_raster(out, ref_dir / 'ref.tif')
    assert_same_raster(prob, ref_dir / 'ref_p.tif')
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name,
                                                            prob.name]


def test_sigkill_during_writing_leaves_no_output(scene, tmp_path):
    out, prob = tmp_path / 'out' / 'change.tif', tmp_path / 'out' / 'p.tif'
    kill_after(scene, out, prob, 4)
    assert (tmp_path / 'out' / 'change.tif.partial.u8').exists()
    assert not out.exists() and not prob.exists()
    # A rerun replaces the leftovers and publishes both outputs.
    summary = run(scene, out, prob)
    assert summary['tiles_resumed'] == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ['change.tif',
                                                            'p.tif']
    with rasterio.open(out) as src:
        assert set(np.unique(src.read(1))) <= {0, 1, 255}


def test_killed_run_resumes_to_the_same_result(scene, tmp_path):
    ref = run(scene, tmp_path / 'ref.tif', tmp_path / 'ref_p.tif')
    out, prob = tmp_path / 'out' / 'change.tif', tmp_path / 'out' / 'p.tif'
    kill_after(scene, out, prob, 8, checkpoint_seconds=0)
    record = json.loads((out.parent / 'change.tif.partial.json').read_text())
    assert 0 < record['done'] < ref['tiles_run'] + ref['tiles_skipped']
    assert not out.exists() and not prob.exists()

    got = run(scene, out, prob, resume=True, checkpoint_seconds=0)
    assert got['tiles_resumed'] == record['done']
    for key in ('tiles_run', 'tiles_skipped', 'valid_pixels',
                'changed_pixels'):
        assert got[key] == ref[key], key  # the whole scene's counts
    assert got['changed_area_m2'] == pytest.approx(ref['changed_area_m2'])
    same_as_reference(out, prob, tmp_path)


def test_killed_between_the_outputs_resumes(scene, tmp_path):
    """Killed once the probability COG is under its name and before the
    change map is: the raw files and the record are all still there, so
    the run resumes instead of starting over, and ends as a run never
    stopped."""
    ref = run(scene, tmp_path / 'ref.tif', tmp_path / 'ref_p.tif')
    out, prob = tmp_path / 'out' / 'change.tif', tmp_path / 'out' / 'p.tif'
    assert kill_when(scene + [out, prob, json.dumps(dict(
        checkpoint_seconds=0, stop_after_replace=True))],
        lambda line: line.startswith('replaced')) == -9
    assert prob.exists() and not out.exists()
    record = json.loads((out.parent / 'change.tif.partial.json').read_text())
    assert record['done'] > 0
    got = run(scene, out, prob, resume=True, overwrite=True,
              checkpoint_seconds=0)
    assert got['tiles_resumed'] == record['done']
    assert got['changed_pixels'] == ref['changed_pixels']
    same_as_reference(out, prob, tmp_path)


def test_resume_with_other_settings_starts_over(scene, tmp_path):
    out, prob = tmp_path / 'change.tif', tmp_path / 'p.tif'
    kill_after(scene, out, prob, 4, checkpoint_seconds=0)
    proc = subprocess.run(
        [str(x) for x in scene + [out, prob]] +
        [json.dumps(dict(resume=True, overlap=8))], cwd=REPO, timeout=300,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0
    assert 'not resumed, started over: settings changed: overlap' in \
        proc.stderr
    assert json.loads(proc.stdout.split('summary ')[-1])[
        'tiles_resumed'] == 0
    ref = run(scene, tmp_path / 'ref.tif', tmp_path / 'ref_p.tif',
              overlap=8)
    assert_same_raster(out, tmp_path / 'ref.tif')
    assert ref['valid_pixels'] == 240 * 160


def test_failed_run_keeps_its_progress_unless_a_file_is_gone(tiny,
                                                             tmp_path):
    """A run that fails once progress is saved keeps its partial files to
    resume; with one of them gone, resuming starts over (warned) and still
    gives the result of a run never stopped."""
    from seg_plugins.apis import infer_change_scene
    model = tiny[0]
    a = write_tif(tmp_path / 'a.tif', scene_bands(200, 200, 5))
    b = write_tif(tmp_path / 'b.tif', scene_bands(200, 200, 6))
    kw = dict(tile=64, overlap=16, batch_size=1, checkpoint_seconds=0)
    ref = infer_change_scene(model, a, b, tmp_path / 'ref.tif',
                             tmp_path / 'ref_p.tif', **kw)
    out, prob = tmp_path / 'c.tif', tmp_path / 'p.tif'
    seen = itertools.count(1)

    def fail_late(n):
        if next(seen) == 10:
            raise RuntimeError('stopped')

    with pytest.raises(RuntimeError, match='stopped'):
        infer_change_scene(model, a, b, out, prob, progress=fail_late, **kw)
    mask = tmp_path / 'p.tif.partial.mask.u8'
    assert mask.exists() and (tmp_path / 'c.tif.partial.json').exists()
    mask.unlink()
    with pytest.warns(UserWarning, match=r'started over: .*mask\.u8 '
                      'missing'):
        got = infer_change_scene(model, a, b, out, prob, resume=True, **kw)
    assert got['tiles_resumed'] == 0
    assert got['changed_pixels'] == ref['changed_pixels']
    assert_same_raster(out, tmp_path / 'ref.tif')
    assert_same_raster(prob, tmp_path / 'ref_p.tif')


def test_stop_asked_saves_every_finished_tile_and_resumes(
        tiny, tmp_path, monkeypatch):
    """``should_stop`` (what SIGTERM sets in tools/infer.py): the tiles the
    model finished are written and saved, with no periodic checkpoint to
    rely on, so resuming runs exactly the rest; asked before any tile,
    nothing is left behind."""
    from seg_plugins.apis import SceneStopped, infer_change_scene
    from seg_plugins.geo.cog import COGWriter
    write = COGWriter.write

    def slow_write(self, *args):  # the model's tiles then wait in a queue
        time.sleep(0.02)
        write(self, *args)

    monkeypatch.setattr(COGWriter, 'write', slow_write)
    model = tiny[0]
    a = write_tif(tmp_path / 'a.tif', scene_bands(200, 200, 7))
    b = write_tif(tmp_path / 'b.tif', scene_bands(200, 200, 8))
    kw = dict(tile=64, overlap=16, batch_size=2, checkpoint_seconds=None)
    ref = infer_change_scene(model, a, b, tmp_path / 'ref.tif',
                             tmp_path / 'ref_p.tif', **kw)
    out, prob = tmp_path / 'out' / 'c.tif', tmp_path / 'out' / 'p.tif'
    reported = []
    with pytest.raises(SceneStopped) as stopped:
        infer_change_scene(model, a, b, out, prob, progress=reported.append,
                           should_stop=lambda: sum(reported) >= 6, **kw)
    e = stopped.value
    assert e.code == 75 and e.out == str(out) and e.tiles == 16
    # No nodata: the tiles run are the first ones, and all of them count.
    assert e.done == sum(reported) >= 6
    record = json.loads((out.parent / 'c.tif.partial.json').read_text())
    assert record['done'] == e.done
    assert not out.exists() and not prob.exists()

    got = infer_change_scene(model, a, b, out, prob, resume=True, **kw)
    assert got['tiles_resumed'] == e.done
    assert got['tiles_run'] == ref['tiles_run'] == 16
    assert got['changed_pixels'] == ref['changed_pixels']
    same_as_reference(out, prob, tmp_path)

    fresh = tmp_path / 'fresh'
    with pytest.raises(SceneStopped) as stopped:
        infer_change_scene(model, a, b, fresh / 'c.tif', should_stop=lambda:
                           True, **kw)
    assert stopped.value.done == 0
    assert list(fresh.iterdir()) == []
