"""A semantic change model exported to ONNX: per-date class probabilities
and the change probability in one tensor, run by ONNX Runtime into the same
three maps as PyTorch (OpenVINO in fp32 too), plain and under
SCDTTAModel."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model
from mmseg.registry import MODELS

from seg_plugins.deploy import export_config, init_ort_model
from seg_plugins.deploy.ort_model import read_metadata
from seg_plugins.deploy.verify import (
    ATOL,
    decided,
    probability_maps,
    verify_export,
)
from seg_plugins.models.segmentors.scd_encoder_decoder import scd_probabilities
from tests.deploy.test_parity import batch
from tests.deploy.tiny_configs import UNET, UNET_SIZES

CONFIG = 'configs/scd_second_unet.py'
OPTIONS = dict(UNET, **{'model.decode_head.in_channels': [4],
                        'model.decode_head.channels': 8})
K = 7
MAPS = ('pred_sem_seg', 'pred_sem_seg_from', 'pred_sem_seg_to')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """The shrunk U-Net SCD config with random weights, exported dynamic."""
    tmp = tmp_path_factory.mktemp('scd_onnx')
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(OPTIONS)
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    ckpt = tmp / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    onnx_file = str(tmp / 'scd.onnx')
    export_config(cfg, str(ckpt), onnx_file, shape=(32, 32), dynamic=True)
    return cfg, model, onnx_file


def assert_same(ref, out):
    for r, o in zip(ref, out, strict=True):
        diff = (scd_probabilities(r.seg_logits.data, K) -
                scd_probabilities(o.seg_logits.data, K)).abs().max()
        assert diff <= 1e-4, f'max |d| {diff}'
        for name in MAPS:
            agree = (r.get(name).data == o.get(name).data).float().mean()
            assert agree >= 0.9999, name


def test_graph_outputs_scd_probabilities_with_its_layout(exported):
    cfg, _, onnx_file = exported
    meta = read_metadata(onnx_file)
    assert meta['output'] == 'scd' and meta['num_classes'] == K
    assert meta['threshold'] == 0.5
    assert 'sigmoid' in meta['output_doc'] and 'softmax' in \
        meta['output_doc']
    ort_model = init_ort_model(cfg, onnx_file)
    probs = ort_model._run(torch.randn(2, 6, 32, 32))
    assert probs.shape == (2, 2 * K - 1, 32, 32)
    # Each date's classes sum to 1; change is one probability.
    for date in (probs[:, :K - 1], probs[:, K - 1:-1]):
        torch.testing.assert_close(date.sum(1), torch.ones(2, 32, 32))
    assert ((probs[:, -1] > 0) & (probs[:, -1] < 1)).all()


def test_export_check_compares_the_three_maps(exported):
    _, model, onnx_file = exported
    meta = read_metadata(onnx_file)
    probs = torch.full((1, 2 * K - 1, 2, 2), 0.1)
    probs[:, -1] = torch.tensor([[0.7, 0.2], [0.6, 0.4]])
    probs[0, 2, 0, 0] = probs[0, K - 1 + 4, :, :] = 0.5
    maps = probability_maps(probs.numpy(), meta)[0]
    assert maps.tolist() == [[[1, 0], [1, 0]], [[3, 0], [1, 0]],
                             [[5, 0], [5, 0]]]
    report = verify_export(model, onnx_file)
    assert report['ok'] and len(report['checks']) == 2, report


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_runtime_gives_pytorch_maps(exported, backend):
    cfg, model, onnx_file = exported
    if backend == 'openvino':
        pytest.importorskip('openvino')
    kwargs = dict(precision='fp32') if backend == 'openvino' else {}
    ort_model = init_ort_model(cfg, onnx_file, backend=backend, **kwargs)
    for (h, w), n in zip(UNET_SIZES, (1, 2)):
        with torch.no_grad():
            ref = model.test_step(batch(cfg, (h, w), n, seed=h * w))
        out = ort_model.test_step(batch(cfg, (h, w), n, seed=h * w))
        for o in out:
            for name in MAPS:
                assert o.get(name).data.shape == (1, h, w)
            changed = o.pred_sem_seg.data > 0
            assert ((o.pred_sem_seg_from.data > 0) == changed).all()
        assert_same(ref, out)


def flip_views(cfg, shape):
    """One sample as two TTA views: as it is and flipped horizontally."""
    plain = batch(cfg, shape, 1, seed=3)
    flipped = copy.deepcopy(plain)
    flipped['inputs'][0] = flipped['inputs'][0].flip(-1)
    flipped['data_samples'][0].set_metainfo(
        dict(flip=True, flip_direction='horizontal'))
    return {key: [plain[key], flipped[key]] for key in plain}


def test_onnxruntime_under_tta_gives_pytorch_tta(exported):
    cfg, model, onnx_file = exported
    ort_model = init_ort_model(cfg, onnx_file)
    ref_tta = MODELS.build(dict(cfg.tta_model, module=model))
    ort_tta = MODELS.build(dict(cfg.tta_model, module=ort_model))
    with torch.no_grad():
        ref = ref_tta.test_step(flip_views(cfg, UNET_SIZES[0]))
    assert_same(ref, ort_tta.test_step(flip_views(cfg, UNET_SIZES[0])))


def test_agreement_counts_only_decided_pixels():
    """A pixel within ATOL of the threshold (or of a tie) may flip between
    two runtimes; the export check leaves it out, and counts the rest."""
    meta = dict(output='probabilities', threshold=0.5)
    probs = np.array([0.5 + ATOL / 10, 0.9, 0.1, 0.5 - 2 * ATOL],
                     dtype=np.float32).reshape(1, 1, 1, 4)
    assert decided(probs, meta).tolist() == [[[False, True, True, True]]]
    two = np.concatenate([1 - probs, probs], axis=1)
    assert decided(two, meta).tolist() == [[[False, True, True, True]]]
    # Semantic change (K = 3): change margin and each date's top gap.
    scd = np.array([[0.6, 0.4, 0.5, 0.5, 0.9],
                    [0.6, 0.4, 0.9, 0.1, 0.5]], dtype=np.float32)
    scd = scd.T.reshape(1, 5, 1, 2)
    meta = dict(output='scd', num_classes=3, threshold=0.5)
    assert decided(scd, meta).tolist() == [[[False, False]]]
    scd[0, 2:4, 0, 0] = (0.7, 0.3)
    assert decided(scd, meta).tolist() == [[[True, False]]]
