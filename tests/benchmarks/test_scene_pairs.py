"""The scene benchmarks' synthetic pairs, and their kinds' configs."""
import os

import pytest
import rasterio
from mmengine.config import Config

from seg_plugins.benchmarks.scene_pairs import KINDS, scene_pair
from tests.conftest import REPO


@pytest.mark.parametrize('kind', list(KINDS))
def test_kind_config_reads_its_bands(kind):
    cfg = Config.fromfile(REPO / KINDS[kind]['config'])
    assert len(cfg.model.data_preprocessor.mean) == KINDS[kind]['bands']


def test_pair_written_once_then_reused(tmp_path):
    pair = scene_pair(str(tmp_path), 'nir16', 128)
    for key in ('a', 'b'):
        with rasterio.open(pair[key]) as src:
            assert (src.count, src.dtypes[0]) == (4, 'uint16')
            assert (src.width, src.height) == (128, 128)
    stamps = {k: os.stat(p).st_mtime_ns for k, p in pair.items()}
    assert scene_pair(str(tmp_path), 'nir16', 128) == pair
    assert {k: os.stat(p).st_mtime_ns for k, p in pair.items()} == stamps
