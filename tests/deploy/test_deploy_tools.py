"""tools/deploy/export_onnx.py, then tools/test.py with both backends on a
LEVIR-CD folder fixture: the same change metrics."""
import re

import numpy as np
import pytest
import torch

from seg_plugins.apis import init_change_model
from tests.cd_fixture import write_pair
from tests.conftest import run_tool
from tests.deploy.tiny_configs import UNET, balance_change_head

CONFIG = 'configs/changedet_demo.py'
OPTIONS = [f'{k}={v}' for k, v in UNET.items()] + [
    'model.decode_head.in_channels=4']


def data_options(root):
    return [f'test_dataloader.dataset.data_root={root}',
            'test_dataloader.batch_size=2']


@pytest.fixture(scope='module')
def levir(tmp_path_factory):
    """Four 40x36 LEVIR pairs (A/ B/ label/) whose change is a brighter
    square, and a random-weight checkpoint of the tiny demo model."""
    root = tmp_path_factory.mktemp('levir')
    rng = np.random.default_rng(7)
    pairs = []
    for i in range(4):
        a = rng.integers(0, 200, (40, 36, 3), dtype=np.uint8)
        b = a.copy()
        label = np.zeros((40, 36), np.uint8)
        y, x = rng.integers(0, 20, 2)
        b[y:y + 16, x:x + 12] += 55
        label[y:y + 16, x:x + 12] = 255
        write_pair(root / 'data', 'test', f'test_{i:04d}', a, b, label)
        pairs.append(np.concatenate((a, b), axis=2))
    torch.manual_seed(1)
    model = init_change_model(CONFIG, cfg_options=dict(
        UNET, **{'model.decode_head.in_channels': 4}))
    balance_change_head(model, pairs)
    ckpt = root / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': dict(
        dataset_meta=dict(classes=('unchanged', 'changed')))}, ckpt)
    return root, ckpt


def metrics(out):
    line = re.search(r'metrics: (.*)', out).group(1)
    return dict(kv.split('=') for kv in line.split(', '))


def test_export_tool_then_test_tool_gives_the_same_metrics(levir):
    root, ckpt = levir
    onnx_file = root / 'model.onnx'
    out = run_tool('tools/deploy/export_onnx.py', CONFIG, ckpt, onnx_file,
                   '--shape', 32, 32, '--dynamic', '--cfg-options', *OPTIONS)
    assert f'wrote {onnx_file}' in out
    assert 'seg_plugins.classes = ["unchanged", "changed"]' in out
    assert re.search(r'check: .*"ok": true', out), out
    ref = metrics(run_tool('tools/test.py', CONFIG, ckpt, '--work-dir',
                           root / 'pt', '--cfg-options', *OPTIONS,
                           *data_options(root / 'data')))
    ort = metrics(run_tool('tools/test.py', CONFIG, onnx_file, '--backend',
                           'onnxruntime', '--work-dir', root / 'ort',
                           '--cfg-options', *OPTIONS,
                           *data_options(root / 'data')))
    assert set(ort) == set(ref)
    assert 0 < float(ref['F1']) < 100  # a map that is neither empty nor full
    for key in ('F1', 'Precision', 'Recall', 'IoU', 'best_F1'):
        assert ort[key] == ref[key], key


def test_export_tool_error_is_one_line(levir, tmp_path):
    _, ckpt = levir
    out = run_tool('tools/deploy/export_onnx.py', CONFIG, ckpt,
                   tmp_path / 'x.onnx', '--shape', 30, 30, '--cfg-options',
                   *OPTIONS, expect_fail=True)
    assert 'error: ' in out and 'multiples of 4' in out
    assert 'Traceback' not in out
