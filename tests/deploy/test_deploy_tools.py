"""tools/deploy/export_onnx.py, then tools/test.py with both backends on a
LEVIR-CD folder fixture: the same change metrics; tools/infer.py with both
backends on a GeoTIFF scene: the same change map."""
import re

import numpy as np
import pytest
import rasterio
import torch
from mmengine.config import Config
from rasterio.transform import from_origin

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


@pytest.fixture(scope='module')
def exported(levir):
    """The tiny demo model exported by the tool (dynamic), and its output."""
    root, ckpt = levir
    onnx_file = root / 'model.onnx'
    out = run_tool('tools/deploy/export_onnx.py', CONFIG, ckpt, onnx_file,
                   '--shape', 32, 32, '--dynamic', '--cfg-options', *OPTIONS)
    return onnx_file, out


def test_export_tool_then_test_tool_gives_the_same_metrics(levir, exported):
    root, ckpt = levir
    onnx_file, out = exported
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


def test_infer_tool_on_a_geotiff_scene_with_both_backends(levir, exported,
                                                          tmp_path):
    """tools/infer.py --backend onnxruntime through the streamed scene path:
    the change COG equals PyTorch's, on the same grid."""
    root, ckpt = levir
    onnx_file, _ = exported
    config = tmp_path / 'tiny.py'
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(UNET, **{'model.decode_head.in_channels': 4}))
    cfg.dump(str(config))
    rng = np.random.default_rng(3)
    a = rng.integers(0, 200, (3, 96, 80), dtype=np.uint8)
    b = a.copy()
    b[:, 20:60, 10:40] += 55
    transform = from_origin(500000.0, 4500000.0, 0.5, 0.5)
    for name, bands in (('a.tif', a), ('b.tif', b)):
        with rasterio.open(tmp_path / name, 'w', driver='GTiff', width=80,
                           height=96, count=3, dtype='uint8',
                           crs='EPSG:32631', transform=transform) as dst:
            dst.write(bands)
    maps = {}
    for backend, weights in (('pytorch', ckpt), ('onnxruntime', onnx_file)):
        out = tmp_path / f'{backend}.tif'
        run_tool('tools/infer.py', tmp_path / 'a.tif', tmp_path / 'b.tif',
                 '--config', config, '--checkpoint', weights, '--out', out,
                 '--backend', backend, '--tile', 32, '--overlap', 8)
        with rasterio.open(out) as src:
            assert src.crs.to_epsg() == 32631 and src.transform == transform
            maps[backend] = src.read(1)
    changed = maps['pytorch'] == 1
    assert 0 < changed.mean() < 1  # neither empty nor full
    agree = (maps['pytorch'] == maps['onnxruntime']).mean()
    assert agree >= 0.9999, agree
