"""SNUNet-CD and TinyCDv2 end to end: TinyCDv2-S trains a few iterations
and is tested (with TTA) by tools/train.py and tools/test.py, is exported
to ONNX and infers a GeoTIFF scene pair with both backends (in process: a
tool's start costs seconds of CPU); SNUNet infers the pair too.

The configs are the real ones (SNUNet cut to 4 base channels by a tiny
config inheriting it, random init; TinyCDv2-S as it is) on a tiny
LEVIR-layout dataset and GeoTIFF pair.
"""
import re

import numpy as np
import pytest
import rasterio
import torch

from seg_plugins.apis import infer_change_scene, init_change_model
from seg_plugins.deploy import export_config
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, demo_options, run_tool
from tests.geo.scene_fixture import scene_bands, write_tif

SNUNET = ('model = dict(backbone=dict(base_channels=4),\n'
          '             decode_head=dict(in_channels=16, channels=16))\n')


# In the main process: a worker's start costs more than 4 tiny pairs.
NO_WORKERS = [f'{split}_dataloader.{key}'
              for split in ('train', 'val', 'test')
              for key in ('num_workers=0', 'persistent_workers=False')]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp('snunet_tinycd')
    root = make_change_dataset(str(base / 'data'),
                               {'train': 4, 'val': 2, 'test': 2}, size=32,
                               seed=7)
    a = write_tif(base / 'a.tif', scene_bands(96, 80, 1))
    b = write_tif(base / 'b.tif', scene_bands(96, 80, 2))
    return base, root, a, b


def tiny_config(root, config: str, override: str = ''):
    path = root / f'tiny_{config}'
    path.write_text(f"_base_ = ['{REPO / 'configs' / config}']\n{override}")
    return path


def scene_map(model, a, b, out):
    """The change map of the pair (a, b) that ``model`` writes to ``out``,
    on A's grid."""
    infer_change_scene(model, str(a), str(b), str(out), tile=64, overlap=16,
                       batch_size=2)
    with rasterio.open(out) as src, rasterio.open(a) as src_a:
        assert src.shape == (96, 80)
        assert src.transform == src_a.transform
        change = src.read(1)
    assert set(np.unique(change)) <= {0, 1}
    return change


def test_train_test_export_and_scene_inference(data):
    base, root, a, b = data
    work = base / 'tinycdv2'
    config = tiny_config(base, 'changedet_tinycdv2_s.py')
    options = [*demo_options(root, 2), *NO_WORKERS]
    out = run_tool('tools/train.py', config, '--work-dir', work,
                   '--cfg-options', *options)
    assert 'loss_ce' in out and 'F1' in out
    ckpt = work / 'iter_2.pth'
    out = run_tool('tools/test.py', config, ckpt, '--tta', '--work-dir',
                   work / 'test', '--cfg-options', *options)
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    assert counts and sum(map(int, counts.groups())) == 2 * 32 * 32, out

    onnx_file = work / 'model.onnx'
    export_config(str(config), str(ckpt), str(onnx_file), shape=(64, 64),
                  dynamic=True)
    maps = [
        scene_map(init_change_model(str(config), str(weights),
                                    backend=backend), a, b,
                  work / f'change_{backend}.tif')
        for backend, weights in (('pytorch', ckpt),
                                 ('onnxruntime', onnx_file))
    ]
    # Barely trained weights: a few pixels near 0.5 may flip.
    assert (maps[0] == maps[1]).mean() >= 0.999

    # SNUNet (random init) on the scene path; its graph's parity with
    # ONNX Runtime is tests/models/test_snunet.py's.
    torch.manual_seed(0)
    snunet = tiny_config(base, 'changedet_snunet_c16.py', SNUNET)
    scene_map(init_change_model(str(snunet)), a, b, base / 'snunet.tif')
