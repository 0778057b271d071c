"""SNUNet-CD and TinyCDv2 end to end: TinyCDv2-S trains a few iterations
and is tested (with TTA) by tools/train.py and tools/test.py; then both
families are exported to ONNX and infer a GeoTIFF scene pair with both
backends (in process).

The configs are the real ones (SNUNet cut to 4 base channels by a tiny
config inheriting it, with its random init as checkpoint; TinyCDv2-S as it
is) on the tiny LEVIR-layout dataset and GeoTIFF pair of the other
change-model tests.
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


def scene_maps(config, ckpt, a, b, work):
    """Change maps of the pair (a, b) from the PyTorch model and from its
    ONNX graph."""
    onnx_file = work / 'model.onnx'
    export_config(str(config), str(ckpt), str(onnx_file), shape=(64, 64),
                  dynamic=True)
    maps = []
    for backend, weights in (('pytorch', ckpt), ('onnxruntime', onnx_file)):
        model = init_change_model(str(config), str(weights), backend=backend)
        change = work / f'change_{backend}.tif'
        infer_change_scene(model, str(a), str(b), str(change), tile=64,
                           overlap=16, batch_size=2)
        with rasterio.open(change) as src, rasterio.open(a) as src_a:
            assert src.shape == (96, 80)
            assert src.transform == src_a.transform
            maps.append(src.read(1))
    return maps


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

    snunet = tiny_config(base, 'changedet_snunet_c16.py', SNUNET)
    (base / 'snunet').mkdir()
    torch.manual_seed(0)
    model = init_change_model(str(snunet))
    snunet_ckpt = base / 'snunet' / 'init.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(dataset_meta=dict(
                    classes=('unchanged', 'changed')))}, snunet_ckpt)
    for cfg, weights, folder in ((config, ckpt, work),
                                 (snunet, snunet_ckpt, base / 'snunet')):
        torch_map, ort_map = scene_maps(cfg, weights, a, b, folder)
        # Random-ish weights: a few pixels near 0.5 may flip.
        assert (torch_map == ort_map).mean() >= 0.999, cfg
        assert set(np.unique(torch_map)) <= {0, 1}
