"""Inference precision (fp32 / bf16 / auto) and bf16 training on the CPU,
through the real tools on a trained change model."""
import re
import signal

import numpy as np
import pytest
import rasterio
import torch

from seg_plugins.apis import (
    infer_change,
    infer_change_scene,
    init_change_model,
)
from seg_plugins.utils.precision import (
    NATIVE_BF16_ENV,
    check_backend_precision,
    model_precision,
    native_bf16,
    resolve_precision,
    set_precision,
)
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import run_tool
from tests.engine import chaos
from tests.geo.scene_fixture import scene_bands, write_tif, write_tiny_model

CONFIG = 'configs/changedet_demo.py'


def options(root, max_iters, interval, warmup=5):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                f'train_cfg.max_iters={max_iters}',
                f'train_cfg.val_interval={interval}',
                f'default_hooks.checkpoint.interval={interval}',
                'default_hooks.checkpoint.max_keep_ckpts=3',
                'default_hooks.logger.interval=1',
                'train_dataloader.batch_size=8',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                f'param_scheduler.0.end={warmup}',
                f'param_scheduler.1.begin={warmup}',
                f'param_scheduler.1.end={max_iters}', 'randomness.seed=0'
            ]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The demo model trained long enough to make a real change map."""
    base = tmp_path_factory.mktemp('precision')
    data = make_change_dataset(str(base / 'data'),
                               {'train': 16, 'val': 8, 'test': 8}, size=64,
                               seed=3)
    # A high lr: the demo's own reaches a change map only after hundreds
    # of iterations (before, nothing is called changed).
    run_tool('tools/train.py', CONFIG, '--work-dir', base / 'work',
             '--cfg-options', *options(data, 120, 120),
             'optim_wrapper.optimizer.lr=0.01')
    return base, base / 'work' / 'iter_120.pth'


def test_resolve_precision(monkeypatch):
    assert resolve_precision('fp32') == 'fp32'
    assert resolve_precision('bf16') == 'bf16'
    assert resolve_precision('auto') == ('bf16' if native_bf16() else 'fp32')
    monkeypatch.setenv(NATIVE_BF16_ENV, '0')
    assert not native_bf16('cpu')
    assert resolve_precision('auto') == 'fp32'
    with pytest.raises(ValueError, match='needs a GPU'):
        resolve_precision('fp16', 'cpu')
    with pytest.raises(ValueError, match='precision must be one of'):
        resolve_precision('int4')


def test_graph_backends_refuse_bf16():
    with pytest.raises(ValueError, match='onnxruntime runs the graph in fp32'):
        init_change_model(CONFIG, 'x.onnx', backend='onnxruntime',
                          precision='bf16')
    with pytest.raises(ValueError, match="OpenVINO runs 'fp32', 'bf16'"):
        check_backend_precision('openvino', 'fp16')
    check_backend_precision('openvino', 'bf16')
    check_backend_precision('pytorch', 'fp16')


def change_maps(model, root):
    names = sorted((root / 'test' / 'A').glob('*.png'))
    return np.stack([
        infer_change(model, str(p), str(root / 'test' / 'B' / p.name),
                     tile=64, overlap=0)[0] for p in names])


def test_bf16_maps_equal_fp32(trained):
    base, ckpt = trained
    model = init_change_model(CONFIG, str(ckpt), precision='fp32')
    fp32 = change_maps(model, base / 'data')
    assert model_precision(model) == 'fp32'
    assert set_precision(model, 'bf16') == 'bf16'
    bf16 = change_maps(model, base / 'data')
    assert 0.02 < fp32.mean() < 0.5  # the model found change
    assert (bf16 == fp32).mean() >= 0.995
    # Called again, the choice is replaced, not stacked.
    assert set_precision(model, 'fp32') == 'fp32'
    np.testing.assert_array_equal(change_maps(model, base / 'data'), fp32)


def test_auto_without_native_bf16_is_fp32(trained, monkeypatch):
    """A CPU without bf16 units is never slowed: auto runs fp32 exactly."""
    base, ckpt = trained
    monkeypatch.setenv(NATIVE_BF16_ENV, '0')
    model = init_change_model(CONFIG, str(ckpt), precision='auto')
    assert model_precision(model) == 'fp32'
    reference = init_change_model(CONFIG, str(ckpt))
    np.testing.assert_array_equal(change_maps(model, base / 'data'),
                                  change_maps(reference, base / 'data'))


def f1_of(out):
    line = re.search(r'metrics: (.*)', out).group(1)
    return (re.search(r'precision=(\w+)', line).group(1),
            float(re.search(r'\bF1=([\d.]+)', line).group(1)))


def test_test_tool_precision_parity(trained):
    base, ckpt = trained
    scores = {}
    for precision in ('fp32', 'bf16'):
        out = run_tool('tools/test.py', CONFIG, ckpt, '--precision', precision,
                       '--work-dir', base / f'test_{precision}',
                       '--cfg-options', *options(base / 'data', 120, 120))
        used, scores[precision] = f1_of(out)
        assert used == precision
    assert scores['fp32'] > 30
    assert abs(scores['bf16'] - scores['fp32']) <= 0.3
    out = run_tool('tools/test.py', CONFIG, ckpt, '--precision', 'fp16',
                   '--cfg-options', *options(base / 'data', 120, 120),
                   expect_fail=True)
    assert 'needs a GPU' in out


def test_amp_training_is_bf16_and_resumes_exactly(tmp_path):
    """--amp trains in bf16 with fp32 weights and optimizer state, and a
    run killed (SIGKILL) and resumed ends with the weights of one that ran
    through, bit for bit."""
    data = make_change_dataset(str(tmp_path / 'data'),
                               {'train': 8, 'val': 2, 'test': 2}, size=32,
                               seed=4)
    whole, part = tmp_path / 'whole', tmp_path / 'part'
    rc, out = chaos.run(chaos.train_cmd(whole, data, '--amp', max_iters=6,
                                        resume=False))
    assert rc == 0, out[-3000:]
    assert "type='BF16OptimWrapper'" in out
    rc, _ = chaos.run_until(chaos.train_cmd(part, data, '--amp',
                                            max_iters=6), 5, signal.SIGKILL)
    assert rc == -signal.SIGKILL
    rc, out = chaos.run(chaos.train_cmd(part, data, '--amp', max_iters=6))
    assert rc == 0, out[-3000:]
    assert 'Iter(train) [1/6]' not in out  # it went on, not restarted
    chaos.assert_same_weights(whole / 'iter_6.pth', part / 'iter_6.pth')
    ckpt = chaos.load(whole / 'iter_6.pth')
    floats = [v for v in ckpt['state_dict'].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float32 for v in floats)
    moments = [s['exp_avg'] for s in ckpt['optimizer']['state'].values()]
    assert moments and all(m.dtype == torch.float32 for m in moments)
    # On the CPU the model trains in channels-last layout (ChannelsLastHook):
    # the saved convolution weights keep its strides, not NCHW's.
    convs = [v for v in floats if v.dim() == 4 and v.shape[1] > 1
             and v.shape[2] * v.shape[3] > 1]
    assert convs and all(
        v.is_contiguous(memory_format=torch.channels_last) and
        not v.is_contiguous() for v in convs)


def test_scene_in_bf16(tmp_path):
    """The scene API in bf16: the change COG agrees with fp32's and the
    run says which precision it used."""
    config, ckpt = write_tiny_model(tmp_path)
    model = init_change_model(str(config), str(ckpt))
    a = write_tif(tmp_path / 'a.tif', scene_bands(160, 200, 1))
    b = write_tif(tmp_path / 'b.tif', scene_bands(160, 200, 2))
    maps = {}
    for precision in ('fp32', 'bf16'):
        out = tmp_path / f'{precision}.tif'
        summary = infer_change_scene(model, str(a), str(b), str(out),
                                     tile=64, overlap=16,
                                     precision=precision)
        assert summary['precision'] == precision
        with rasterio.open(out) as src:
            maps[precision] = src.read(1)
    assert 0 < (maps['fp32'] == 1).mean() < 1
    assert (maps['fp32'] == maps['bf16']).mean() >= 0.995
    # None keeps the model's: the last one set.
    assert model_precision(model) == 'bf16'
    summary = infer_change_scene(model, str(a), str(b),
                                 str(tmp_path / 'again.tif'), tile=64,
                                 overlap=16)
    assert summary['precision'] == 'bf16'
