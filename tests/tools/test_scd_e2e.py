"""Semantic change end to end: the synthetic SECOND-layout set (RGB colour
labels) through tools/train.py and tools/test.py (--out, --tta), and the
graph exported by tools/deploy/export_onnx.py through tools/test.py
--backend onnxruntime; one trained checkpoint for all."""
import re

import numpy as np
import pytest
from PIL import Image

from seg_plugins.datasets.second_scd import SECOND_PALETTE
from seg_plugins.datasets.synthetic_scd import make_scd_dataset
from tests.conftest import demo_options, run_tool, run_tool_in_process

CONFIG = 'configs/scd_demo.py'


def metrics(out):
    line = re.search(r'^metrics: (.*)$', out, re.M)
    assert line, out[-2000:]
    return dict(kv.split('=') for kv in line.group(1).split(', '))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The demo config trained 2 iterations on 4 synthetic pairs."""
    tmp = tmp_path_factory.mktemp('scd_e2e')
    data = tmp / 'scd'
    make_scd_dataset(str(data), {'train': 4, 'test': 2}, size=32)
    work = tmp / 'work'
    opts = demo_options(data, 2) + ['train_dataloader.num_workers=0',
                                    'train_dataloader.persistent_workers='
                                    'False']
    out = run_tool('tools/train.py', CONFIG, '--work-dir', work,
                   '--cfg-options', *opts)
    assert list(work.glob('best_SeK_iter_*.pth')), out[-2000:]
    return tmp, work / 'iter_2.pth', [
        '--cfg-options', f'test_dataloader.dataset.data_root={data}']


@pytest.fixture(scope='module')
def pytorch_test(trained):
    """tools/test.py --out on the checkpoint: its output and --out dir."""
    tmp, ckpt, data_opt = trained
    preds = tmp / 'preds'
    out = run_tool('tools/test.py', CONFIG, ckpt, '--work-dir', tmp / 'w',
                   '--out', preds, *data_opt)
    return out, preds


def test_scd_demo_trains_tests_and_writes_palette_maps(pytorch_test):
    out, preds = pytorch_test
    line = metrics(out)
    for key in ('SeK', 'Fscd', 'mIoU', 'OA', 'IoU_c', 'Pscd', 'Rscd'):
        assert -100 <= float(line[key]) <= 100, (key, line)
    for sub in ('label1', 'label2'):
        names = sorted(p.name for p in (preds / sub).glob('*.png'))
        assert names == ['0000.png', '0001.png']
        img = Image.open(preds / sub / names[0])
        assert img.mode == 'P' and img.size == (32, 32)
        assert np.array(img).max() <= 6
        assert img.getpalette()[:21] == sum(SECOND_PALETTE, [])


def test_tta_prints_the_scd_metrics(trained):
    tmp, ckpt, data_opt = trained
    line = metrics(run_tool_in_process('tools/test.py', CONFIG, ckpt,
                                       '--tta', '--work-dir', tmp / 'tta',
                                       *data_opt))
    for key in ('SeK', 'Fscd', 'mIoU', 'OA'):
        assert -100 <= float(line[key]) <= 100, (key, line)


def test_exported_graph_gives_the_pytorch_metrics(trained, pytorch_test):
    tmp, ckpt, data_opt = trained
    onnx_file = tmp / 'scd.onnx'
    out = run_tool_in_process('tools/deploy/export_onnx.py', CONFIG, ckpt,
                              onnx_file, '--shape', 32, 32)
    assert 'seg_plugins.output = "scd"' in out
    assert re.search(r'check: .*"ok": true', out), out
    ort = metrics(run_tool_in_process(
        'tools/test.py', CONFIG, onnx_file, '--backend', 'onnxruntime',
        '--work-dir', tmp / 'ort', *data_opt))
    ref = metrics(pytorch_test[0])
    assert 0 < float(ref['IoU_c']) < 100  # change neither nowhere nor all
    assert set(ort) == set(ref)
    for key in ref:
        assert ort[key] == ref[key], (key, ort, ref)
