"""A scene run killed (SIGKILL) while writing leaves no file under the
final names; the next run cleans up and completes."""
import itertools
import subprocess
import sys

import numpy as np
import rasterio

from tests.conftest import REPO, kill_when
from tests.geo.scene_fixture import scene_bands, write_tif, write_tiny_model

SCRIPT = """
import sys, time
from seg_plugins.apis import infer_change_scene, init_change_model
config, ckpt, a, b, out, prob, pause = sys.argv[1:]
model = init_change_model(config, ckpt)

def slow(n):  # a long run, made long on purpose
    print('tiles', n, flush=True)
    time.sleep(float(pause))

infer_change_scene(model, a, b, out, prob_out=prob, tile=64, overlap=16,
                   batch_size=1, progress=slow)
print('done', flush=True)
"""


def test_sigkill_during_writing_leaves_no_output(tmp_path):
    config, ckpt = write_tiny_model(tmp_path)
    a = write_tif(tmp_path / 'a.tif', scene_bands(240, 240, 1))
    b = write_tif(tmp_path / 'b.tif', scene_bands(240, 240, 2))
    out, prob = tmp_path / 'out' / 'change.tif', tmp_path / 'out' / 'p.tif'
    args = [sys.executable, '-c', SCRIPT, config, ckpt, a, b, out, prob]
    tiles = itertools.count(1)
    rc = kill_when(args + [0.3], lambda line: line.startswith('tiles')
                   and next(tiles) == 4)
    assert rc == -9
    assert (tmp_path / 'out' / 'change.tif.partial.tif').exists()
    assert not out.exists() and not prob.exists()
    # A rerun replaces the leftovers and publishes both outputs.
    done = subprocess.run([str(x) for x in args + [0]], cwd=REPO, timeout=300,
                          stdout=subprocess.PIPE, text=True)
    assert done.returncode == 0 and 'done' in done.stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ['change.tif',
                                                            'p.tif']
    with rasterio.open(out) as src:
        assert set(np.unique(src.read(1))) <= {0, 1}
