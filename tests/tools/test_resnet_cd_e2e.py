"""ChangerEx through the tools: train two iterations, then test with TTA.

The config is the real one with ResNet-18 cut to 16 stem and base channels
(a tiny config inheriting it), on the tiny LEVIR-layout dataset of the
other tests. BIT and ChangerEx share the backbone and the tools' code
paths; their training step, ONNX export and scene inference on a GeoTIFF
pair with both backends are tested in-process in
tests/models/test_{bit,changer}.py (a tool's start costs seconds of CPU).
"""
import re

import pytest

from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, demo_options, run_tool

TINY_CONFIG = f"""_base_ = ['{REPO}/configs/changedet_changerex_r18.py']
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=[16, 32, 64, 128]))
"""


def options(root):
    """Two iterations, validation and a checkpoint at the second, data
    loaded in the main process (a worker's start costs more than 4 tiny
    pairs)."""
    return demo_options(root, max_iters=2) + [
        f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
        for key in ('num_workers=0', 'persistent_workers=False')]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp('resnet_cd')
    root = make_change_dataset(str(base / 'data'),
                               {'train': 4, 'val': 2, 'test': 2}, size=32,
                               seed=7)
    return base, root


def test_train_then_test_with_tta(data):
    base, root = data
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

