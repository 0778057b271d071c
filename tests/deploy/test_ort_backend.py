"""init_change_model(backend='onnxruntime'), tiled inference on it, and the
errors of export and loading."""
import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from torch import nn

from seg_plugins.apis import infer_change, init_change_model
from seg_plugins.deploy import ExportError, export_config, init_ort_model
from seg_plugins.utils.cpu_turns import model_takes_every_core, usable_cores
from tests.deploy.tiny_configs import CONFIGS, balance_change_head

CONFIG, OPTIONS, _, _ = CONFIGS['fc_ef']


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """A random-weight tiny FC-EF: its .pth and its dynamic .onnx."""
    tmp = tmp_path_factory.mktemp('ort')
    torch.manual_seed(0)
    model = init_change_model(CONFIG, cfg_options=OPTIONS)
    rng = np.random.default_rng(3)
    balance_change_head(
        model, [rng.integers(0, 256, (48, 48, 6), np.uint8)])
    ckpt = tmp / 'model.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(dataset_meta=dict(classes=('a', 'b')))}, ckpt)
    onnx_file = tmp / 'model.onnx'
    export_config(CONFIG, str(ckpt), str(onnx_file), shape=(32, 32),
                  dynamic=True, cfg_options=OPTIONS)
    return ckpt, onnx_file


def test_infer_change_same_maps_with_both_backends(exported):
    ckpt, onnx_file = exported
    rng = np.random.default_rng(3)
    img_a = rng.integers(0, 256, (70, 101, 3), dtype=np.uint8)
    img_b = rng.integers(0, 256, (70, 101, 3), dtype=np.uint8)
    results = {}
    for backend, weights in (('pytorch', ckpt), ('onnxruntime', onnx_file)):
        model = init_change_model(CONFIG, str(weights), cfg_options=OPTIONS,
                                  backend=backend)
        assert model.cfg.model.backbone.fusion == 'early'
        # Edge tiles (70 - 48 rows) are not multiples of the divisor: the
        # preprocessor pads them, postprocessing crops.
        results[backend] = infer_change(model, img_a, img_b, tile=48,
                                        overlap=8, batch_size=3)
    (change_pt, prob_pt), (change_ort, prob_ort) = results.values()
    assert change_pt.shape == (70, 101)
    assert 0 < change_pt.sum() < change_pt.size  # not a constant map
    assert (change_pt == change_ort).mean() >= 0.9999
    diff = np.abs(prob_pt.astype(int) - prob_ort.astype(int))
    assert diff.max() <= 1  # uint8 rounding of equal probabilities


def test_graph_exported_with_other_preprocessing_is_refused(exported):
    _, onnx_file = exported
    options = dict(OPTIONS, **{'model.data_preprocessor.bgr_to_rgb': False})
    with pytest.raises(ValueError, match='bgr_to_rgb: graph True, config '
                       'False'):
        init_change_model(CONFIG, str(onnx_file), cfg_options=options,
                          backend='onnxruntime')


def test_onnx_without_metadata_is_refused(exported, tmp_path):
    _, onnx_file = exported
    proto = onnx.load(str(onnx_file))
    del proto.metadata_props[:]
    bare = tmp_path / 'bare.onnx'
    onnx.save(proto, str(bare))
    with pytest.raises(ValueError, match='bare.onnx has no seg_plugins '
                       'metadata'):
        init_change_model(CONFIG, str(bare), cfg_options=OPTIONS,
                          backend='onnxruntime')


def test_static_graph_names_its_size(tmp_path):
    onnx_file = tmp_path / 'static.onnx'
    export_config(CONFIG, None, str(onnx_file), shape=(32, 32),
                  cfg_options=OPTIONS)
    model = init_change_model(CONFIG, str(onnx_file), cfg_options=OPTIONS,
                              backend='onnxruntime')
    img = np.zeros((32, 32, 3), np.uint8)
    change, _ = infer_change(model, img, img, tile=32, overlap=0,
                             batch_size=2)  # batch 1 graph, run per tile
    assert change.shape == (32, 32)
    with pytest.raises(ValueError, match='exported for 32x32 inputs only, '
                       'got 48x48: export with --dynamic'):
        infer_change(model, np.zeros((48, 48, 3), np.uint8),
                     np.zeros((48, 48, 3), np.uint8), tile=48, overlap=0)


def test_export_shape_the_network_cannot_take(tmp_path):
    with pytest.raises(ExportError, match=r'export shape 30x32 must be '
                       r'multiples of 4 and at least 8 for ChangeUNet'):
        export_config(CONFIG, None, str(tmp_path / 'x.onnx'),
                      shape=(30, 32), cfg_options=OPTIONS)


def test_detector_config_is_refused(tmp_path):
    with pytest.raises(ExportError, match="default_scope 'mmdet'"):
        export_config('configs/maskrcnn_r50_fpn_pennfudan.py', None,
                      str(tmp_path / 'x.onnx'))


class _Unexportable(nn.Module):
    """A layer whose op has no ONNX form (``aten::cummax``)."""

    def forward(self, x):
        return torch.cummax(x, dim=2).values


@MODELS.register_module(name='_TestUnexportableNeck', force=True)
class _UnexportableNeck(nn.Module):

    def __init__(self):
        super().__init__()
        self.scan = _Unexportable()

    def forward(self, feats):
        return [*feats[:-1], self.scan(feats[-1])]


def test_unexportable_layer_is_named(tmp_path):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(OPTIONS)
    cfg.model.neck = dict(type='_TestUnexportableNeck')
    with pytest.raises(ExportError) as info:
        export_config(cfg, None, str(tmp_path / 'x.onnx'), shape=(16, 16))
    message = str(info.value)
    assert 'aten::cummax' in message
    assert 'in layer(s) neck.scan (_Unexportable)' in message, message


@pytest.mark.skipif(usable_cores() < 2, reason='needs 2 usable cores')
def test_an_ort_session_on_every_core_takes_turns_with_the_reader(exported):
    """``infer_change_scene``'s default for an ONNX Runtime model: turns
    when its CPU session has a thread per usable core (threads=0)."""
    _, onnx_file = exported
    every = init_ort_model(CONFIG, str(onnx_file), cfg_options=OPTIONS)
    fewer = init_ort_model(CONFIG, str(onnx_file), cfg_options=OPTIONS,
                           threads=usable_cores() - 1)
    assert model_takes_every_core(every)
    assert not model_takes_every_core(fewer)
