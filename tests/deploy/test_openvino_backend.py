"""init_change_model(backend='openvino'): the exported graph run by
OpenVINO, in fp32 (parity with PyTorch) and bf16 (parity of the maps)."""
import numpy as np
import pytest

from seg_plugins.apis import infer_change, init_change_model
from seg_plugins.utils.precision import NATIVE_BF16_ENV, native_bf16
from tests.deploy.test_ort_backend import exported  # noqa: F401  (fixture)
from tests.deploy.tiny_configs import CONFIGS

pytest.importorskip('openvino')
CONFIG, OPTIONS, _, _ = CONFIGS['fc_ef']


def pair(seed=3, shape=(70, 101, 3)):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, shape, dtype=np.uint8),
            rng.integers(0, 256, shape, dtype=np.uint8))


def run(weights, backend, precision='fp32'):
    model = init_change_model(CONFIG, str(weights), cfg_options=OPTIONS,
                              backend=backend, precision=precision)
    return model, infer_change(model, *pair(), tile=48, overlap=8,
                               batch_size=3)


def test_fp32_equals_pytorch(exported):  # noqa: F811
    ckpt, onnx_file = exported
    _, (change_pt, prob_pt) = run(ckpt, 'pytorch')
    model, (change_ov, prob_ov) = run(onnx_file, 'openvino')
    assert model.precision == 'fp32'
    assert 0 < change_pt.sum() < change_pt.size  # not a constant map
    assert (change_pt == change_ov).mean() >= 0.9999
    assert np.abs(prob_pt.astype(int) - prob_ov.astype(int)).max() <= 1


def test_bf16_maps_agree_with_fp32(exported):  # noqa: F811
    ckpt, onnx_file = exported
    _, (change_pt, _) = run(ckpt, 'pytorch')
    model, (change_ov, _) = run(onnx_file, 'openvino', 'bf16')
    assert model.precision == 'bf16'
    assert (change_pt == change_ov).mean() >= 0.995


def test_auto_is_fp32_without_native_bf16(exported, monkeypatch):  # noqa: F811
    _, onnx_file = exported
    model, _ = run(onnx_file, 'openvino', 'auto')
    assert model.precision == ('bf16' if native_bf16() else 'fp32')
    monkeypatch.setenv(NATIVE_BF16_ENV, '0')
    model, _ = run(onnx_file, 'openvino', 'auto')
    assert model.precision == 'fp32'


def test_refuses_what_it_cannot_run(exported):  # noqa: F811
    _, onnx_file = exported
    with pytest.raises(ValueError, match="OpenVINO runs 'fp32', 'bf16'"):
        run(onnx_file, 'openvino', 'fp16')
    with pytest.raises(ValueError, match="runs on 'cpu'"):
        init_change_model(CONFIG, str(onnx_file), 'cuda', OPTIONS,
                          backend='openvino')
