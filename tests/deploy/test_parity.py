"""ONNX Runtime equals PyTorch for every exported config family.

Each config (shrunk, random weights) is exported once with dynamic axes;
then the same raw images go through PyTorch's ``test_step`` and the
ORTSegmentor's (config data preprocessor, graph, mmseg postprocessing) at
two input sizes and batch sizes.
"""
import json

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model
from mmseg.structures import SegDataSample

from seg_plugins.deploy import export_config, init_ort_model
from tests.deploy.tiny_configs import CONFIGS


def probabilities(sample: SegDataSample) -> torch.Tensor:
    """(K, H, W) probabilities of a prediction (mmseg leaves sigmoid heads'
    seg_logits as probabilities, softmax heads' as logits)."""
    logits = sample.seg_logits.data
    return logits if logits.shape[0] == 1 else logits.softmax(dim=0)


def batch(cfg, shape, n, seed):
    """``n`` random uint8 samples of ``shape`` in the loader's layout."""
    pre = cfg.model.data_preprocessor
    channels = 3 * pre.get('num_images', 1)
    rng = np.random.default_rng(seed)
    inputs = [torch.from_numpy(rng.integers(0, 256, (channels, *shape),
                                            dtype=np.uint8))
              for _ in range(n)]
    samples = [SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape))
               for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name', list(CONFIGS))
def test_onnxruntime_matches_pytorch(name, tmp_path):
    config, options, shape, sizes = CONFIGS[name]
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.model.backbone.pop('init_cfg', None)  # no download: random weights
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(dataset_meta=dict(classes=('a', 'b')))}, ckpt)
    onnx_file = str(tmp_path / f'{name}.onnx')
    export_config(cfg, str(ckpt), onnx_file, shape=shape, dynamic=True)
    ort_model = init_ort_model(cfg, onnx_file)
    for (h, w), n in zip(sizes, (1, 2)):
        data = batch(cfg, (h, w), n, seed=h * w)
        with torch.no_grad():
            ref = model.test_step(data)
        out = ort_model.test_step(batch(cfg, (h, w), n, seed=h * w))
        assert len(out) == n
        for r, o in zip(ref, out):
            assert o.pred_sem_seg.data.shape == (1, h, w)
            assert o.seg_logits.data.shape == r.seg_logits.data.shape
            diff = (probabilities(r) - probabilities(o)).abs().max()
            assert diff <= 1e-4, f'{name} at {h}x{w}: max |d| {diff}'
            agree = (r.pred_sem_seg.data == o.pred_sem_seg.data).float()
            assert agree.mean() >= 0.9999, f'{name} at {h}x{w}'


def test_metadata_describes_the_preprocessing(tmp_path):
    config, options, _, _ = CONFIGS['fc_siam_diff']
    onnx_file = tmp_path / 'm.onnx'
    export_config(config, None, str(onnx_file), shape=(32, 32),
                  dynamic=True, cfg_options=options)
    proto = onnx.load(str(onnx_file))
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta['seg_plugins.num_images'] == 2
    assert meta['seg_plugins.channels'] == 3
    assert meta['seg_plugins.mean'] == [123.675, 116.28, 103.53] * 2
    assert meta['seg_plugins.std'] == [58.395, 57.12, 57.375] * 2
    assert meta['seg_plugins.bgr_to_rgb'] is True
    assert meta['seg_plugins.output'] == 'sigmoid'
    assert meta['seg_plugins.threshold'] == 0.5
    assert meta['seg_plugins.size_divisor'] == 4  # 3 stages
    assert meta['seg_plugins.min_size'] == 8  # reflect padding
    graph_in = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in graph_in] == [
        'batch', 6, 'height', 'width']
    assert proto.opset_import[0].version == 17
