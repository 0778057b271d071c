"""ChangerEx through the tools: train two iterations, test with TTA, infer
a GeoTIFF scene pair.

The config is the real one with ResNet-18 cut to 16 stem and base channels
(a tiny config inheriting it), on the tiny LEVIR-layout dataset and
GeoTIFF bands of the other tests. BIT and ChangerEx share the backbone
and the tools' code paths; their ONNX export and scene inference with both
backends are tested in-process in tests/models/test_{bit,changer}.py.
"""
import re

import numpy as np
import pytest
import rasterio

from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, run_tool
from tests.geo.scene_fixture import scene_bands, write_tif

TINY_CONFIG = f"""_base_ = ['{REPO}/configs/changedet_changerex_r18.py']
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=[16, 32, 64, 128]))
"""


def options(root):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2',
                'default_hooks.logger.interval=1',
                'train_dataloader.batch_size=2',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False',
                'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False'
            ]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp('resnet_cd')
    root = make_change_dataset(str(base / 'data'),
                               {'train': 4, 'val': 2, 'test': 2}, size=32,
                               seed=7)
    a = write_tif(base / 'a.tif', scene_bands(96, 80, 1))
    b = write_tif(base / 'b.tif', scene_bands(96, 80, 2))
    return base, root, a, b


def test_train_test_and_scene_inference(data):
    base, root, a, b = data
    work = base / 'work'
    config = base / 'tiny_changerex.py'
    config.write_text(TINY_CONFIG)
    out = run_tool('tools/train.py', config, '--work-dir', work,
                   '--cfg-options', *options(root))
    assert 'loss_ce' in out and 'F1' in out
    ckpt = work / 'iter_2.pth'
    out = run_tool('tools/test.py', config, ckpt, '--tta', '--work-dir',
                   work / 'test', '--cfg-options', *options(root))
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    assert counts and sum(map(int, counts.groups())) == 2 * 32 * 32, out

    change = work / 'change.tif'
    log = run_tool('tools/infer.py', a, b, '--config', config,
                   '--checkpoint', ckpt, '--out', change, '--tile', '64',
                   '--overlap', '16')
    assert '4 tiles run' in log, log[-2000:]
    with rasterio.open(change) as src, rasterio.open(a) as src_a:
        assert src.shape == (96, 80)
        assert src.transform == src_a.transform
        assert set(np.unique(src.read(1))) <= {0, 1}
