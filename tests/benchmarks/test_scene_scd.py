"""The semantic-change scene benchmark's measurement, run in this process
on a small synthetic pair, and its table line."""
import argparse
import json

from seg_plugins.benchmarks.scene_pairs import scene_pair
from seg_plugins.benchmarks.scene_scd import measure_scd_scene
from seg_plugins.benchmarks.scene_scd_benchmark import HEADER, format_scd_row
from tests.conftest import REPO


def test_scd_scene_fills_the_area_table(tmp_path, monkeypatch):
    pair = scene_pair(str(tmp_path), 'rgb8', 128)
    args = argparse.Namespace(
        pair=json.dumps(dict(warm=pair, scene=pair)), model='scd',
        base_channels=4, threads=1, tile=64, overlap=16, batch_size=2,
        work_dir=str(tmp_path))
    monkeypatch.chdir(REPO)  # the configs are relative to the repository
    row = measure_scd_scene(args)
    # The change logit centred on a tile's median: pixels change, and the
    # area table has from-to rows.
    assert row['pairs'] > 0
    assert row['seconds'] > 0
    line = format_scd_row(128, 'scd', row, first=row['peak_mb'],
                          scd_peak=row['peak_mb'])
    fields = line.split()
    assert fields[:2] == ['128', 'scd'] and fields[-1] == str(row['pairs'])
    assert fields[4] == '1.00' and len(fields) == 6  # no 'x binary'
    assert len(line) == len(HEADER)
    binary = dict(seconds=1.0, peak_mb=row['peak_mb'] / 2, pairs=0)
    fields = format_scd_row(128, 'binary', binary, first=row['peak_mb'],
                            scd_peak=row['peak_mb']).split()
    assert fields[4:6] == ['0.50', '2.00']
