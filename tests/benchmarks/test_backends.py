"""The backends benchmark's pieces: a family timed with every backend on a
small batch, its table lines, the CPU's peak and the scene pair."""

import numpy as np
import pytest
import rasterio
import torch

from seg_plugins.benchmarks.backends_families import bench_family, same_map
from seg_plugins.benchmarks.backends_peak import cpu_ghz, peak_gflops
from seg_plugins.benchmarks.backends_scene import write_pair
from seg_plugins.benchmarks.backends_table import HEADER, family_lines
from tests.conftest import REPO


def test_family_rows_and_table(tmp_path, monkeypatch):
    spec = ('configs/changedet_unet.py', 1, 64, 64, {})
    monkeypatch.chdir(REPO)  # the configs are relative to the repository
    rows, mp, diffs, same = bench_family('unet', spec, 1, 1, str(tmp_path))
    assert list(rows)[:5] == ['eager', 'eager inference_mode',
                              'eager channels_last', 'onnxruntime',
                              'eager bf16']
    assert mp == 64 * 64 / 1e6
    # Same graph, same input: fp32 backends agree closely; the change
    # decisions of bf16 (and OpenVINO) mostly agree.
    assert diffs['channels_last'] < 1e-4 and diffs['onnxruntime'] < 1e-4
    assert set(same) == {r for r in rows if 'bf16' in r or 'openvino' in r}
    assert all(0.9 <= v <= 1 for v in same.values())
    lines = family_lines('unet', '1x64x64', rows, mp, diffs, same, 1e9, 1,
                         2.0)
    assert len(lines) == len(rows)
    eager = lines[0].split()
    assert eager[:3] == ['unet', '1x64x64', 'eager'] and eager[5] == '1.00'
    assert len(lines[0]) == len(HEADER)
    # GFLOP/s and its share of 64 FLOP/cycle x 1 core x 2 GHz.
    gflops = 2 / rows['eager']
    assert float(eager[-2]) == pytest.approx(gflops, abs=0.06)
    assert float(eager[-1]) == pytest.approx(100 * gflops / 128, abs=0.06)


def test_same_map_and_peak():
    ref = np.array([0.2, 0.7, 0.9, 0.4]).reshape(1, 1, 2, 2)
    assert same_map(ref, ref) == 1.0
    one_off = np.array([0.6, 0.7, 0.9, 0.4]).reshape(1, 1, 2, 2)
    assert same_map(one_off, ref) == 0.75
    two = np.concatenate([ref, 1 - ref], axis=1)
    assert same_map(1 - two, two) == 0.0
    assert peak_gflops('fp32', 2, 2.0) == 256.0
    assert peak_gflops('bf16', 1, 1.0) in (1024, 128, 64)
    if torch.cpu._is_amx_tile_supported():
        assert peak_gflops('bf16', 2, 2.0) == 4096.0
    ghz = cpu_ghz()
    assert np.isnan(ghz) or ghz > 0


def test_scene_pair_is_tiled_and_differs(tmp_path):
    path_a, path_b = write_pair(str(tmp_path), 600)
    with rasterio.open(path_a) as a, rasterio.open(path_b) as b:
        assert (a.count, a.width, a.height, a.dtypes[0]) == (3, 600, 600,
                                                            'uint8')
        assert a.block_shapes[0] == (512, 512)
        assert a.crs.to_epsg() == 32631
        img_a, img_b = a.read(), b.read()
    assert img_a[:, 599].any() and not np.array_equal(img_a, img_b)
