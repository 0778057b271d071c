"""The scene benchmark's measurements, run in this process on a small
synthetic pair, and its table built from them."""
import argparse
import json
import math
import os

import pytest

from seg_plugins.benchmarks.scene_measure import measure
from seg_plugins.benchmarks.scene_pairs import scene_pair
from seg_plugins.benchmarks.scene_table import HEADER, format_row, size_row
from tests.conftest import REPO


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('scene_bench'))
    pair = scene_pair(work_dir, 'rgb8', 128)
    args = argparse.Namespace(
        kind='rgb8', pair=json.dumps(pair), warm_pair=json.dumps(pair),
        tile=64, overlap=16, batch_size=2, threads=1, base_channels=4,
        work_dir=work_dir, gdal_cache_mb=16, reuse_memory=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)  # the kinds' configs are relative to the repository
        scene = measure(argparse.Namespace(**vars(args), mode='scene'))
        bare = measure(argparse.Namespace(**vars(args), mode='bare',
                                          tiles=scene['tiles']))
    return work_dir, scene, bare


def test_scene_run_covers_the_grid_and_writes_cogs(runs):
    work_dir, scene, bare = runs
    # 128 px in 64 px tiles overlapping by 16: 3 x 3 tiles.
    assert scene['tiles'] + scene['skipped'] == 9
    assert scene['tiles'] > 0 and scene['seconds'] > 0
    assert scene['side'] >= 0
    assert isinstance(scene['turns'], bool)
    written = {name for _, _, files in os.walk(work_dir) for name in files}
    assert {'change.tif', 'prob.tif', 'warm.tif'} <= written
    # In this process the peaks count the fixture's earlier runs: only
    # their presence is checked (the tool runs each in a process of its own).
    assert bare['seconds'] > 0
    assert math.isfinite(scene['peak_mb']) and math.isfinite(bare['peak_mb'])


def test_table_row_from_measured_runs(runs):
    _, scene, bare = runs
    row = size_row('rgb8', 128, [scene], [bare], peak=30.0, first_peak=20.0,
                   model_mb=10.0, infer_change_s=2 * scene['seconds'])
    assert math.isclose(row['scene'], 128 * 128 / 1e6 / scene['seconds'])
    line = format_row(row)
    fields = line.split()
    assert fields[:4] == ['rgb8', '128', str(scene['tiles']),
                          str(scene['skipped'])]
    assert float(fields[6]) == pytest.approx(
        bare['seconds'] / scene['seconds'], abs=0.006)
    assert fields[8] == '1.50' and fields[10] == '2.00x'
    # Right-aligned under the header: 'peak MB' ends where 30.0 does.
    assert line.index('30.0') + 4 == HEADER.index('peak MB') + 7
