"""tools/test.py's config set-up (seg_plugins/apis/testing.py) on the
repo's configs; tests/tools/test_train_test_tools.py runs the tool."""
import pytest
from mmengine.config import Config

from seg_plugins.apis.testing import (
    describe_protocol,
    enable_tta,
    enable_visualization,
    keep_predictions,
    set_protocol,
    set_test_precision,
)
from tests.conftest import REPO


def config(name: str) -> Config:
    return Config.fromfile(REPO / 'configs' / name)


def test_protocol_set_and_described():
    cfg = config('changedet_demo.py')
    assert describe_protocol(cfg.model.test_cfg) == 'whole'
    set_protocol(cfg, 'slide64', 'mmseg')
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(64, 64),
                                      stride=(64, 64))
    assert describe_protocol(cfg.model.test_cfg) == 'slide64'
    set_protocol(cfg, 'whole', 'mmseg')  # the window's keys go
    assert cfg.model.test_cfg == dict(mode='whole')
    assert describe_protocol(dict(mode='slide', crop_size=(64, 32),
                                  stride=(32, 16))) == \
        'slide64x32/stride32x16'
    assert describe_protocol(None) == 'whole'
    for protocol, scope in (('tiles', 'mmseg'), ('slide', 'mmseg'),
                            ('whole', 'mmdet')):
        with pytest.raises(ValueError, match=f'--protocol {protocol}: '
                           "expected 'whole' or 'slideN'"):
            set_protocol(cfg, protocol, scope)


def test_tta_wraps_the_model_keeping_its_preprocessor(tmp_path):
    cfg = config('changedet_demo.py')
    model, pipeline = cfg.model, cfg.tta_pipeline
    enable_tta(cfg, 'mmseg')
    assert cfg.model.type == 'BinarySegTTAModel'  # the config's tta_model
    assert cfg.model.module == model
    assert cfg.model.data_preprocessor == model.data_preprocessor
    assert cfg.test_dataloader.dataset.pipeline == pipeline
    bare = tmp_path / 'bare.py'
    bare.write_text("model = dict(type='EncoderDecoder')\n")
    with pytest.raises(ValueError, match='--tta needs tta_pipeline in '
                       f'{bare}'):
        enable_tta(Config.fromfile(bare), 'mmseg')


def test_visualization_and_predictions_where_asked():
    cfg = config('unet_strided_demo.py')
    enable_visualization(cfg, 'show', 'mmseg')
    hook = cfg.default_hooks.visualization
    assert hook.draw and hook.interval == 1
    assert cfg.visualizer.save_dir == 'show'
    keep_predictions(cfg, 'preds', 'mmseg')
    assert cfg.test_evaluator.output_dir == 'preds'
    assert cfg.test_evaluator.keep_results
    del cfg.default_hooks['visualization']
    with pytest.raises(ValueError, match='--show-dir needs a '
                       '"visualization" entry'):
        enable_visualization(cfg, 'show', 'mmseg')
    det = config('maskrcnn_r50_fpn_pennfudan.py')
    enable_visualization(det, 'show', 'mmdet')
    assert det.default_hooks.visualization.test_out_dir == 'show'
    evaluator = det.test_evaluator.copy()
    keep_predictions(det, 'out.pkl', 'mmdet')  # dumped by the runner
    assert det.test_evaluator == evaluator


def test_precision_of_other_backends_and_scopes():
    class Graph:
        precision = 'bf16'

    assert set_test_precision(Graph(), 'mmdet', 'pytorch', 'bf16') is None
    assert set_test_precision(Graph(), 'mmseg', 'openvino', 'fp32') == \
        'bf16'
    assert set_test_precision(object(), 'mmseg', 'onnxruntime',
                              'fp32') == 'fp32'


def test_precision_on_the_pytorch_backend():
    from seg_plugins.apis import init_change_model
    model = init_change_model(str(REPO / 'configs/changedet_demo.py'))
    assert set_test_precision(model, 'mmseg', 'pytorch', 'bf16') == 'bf16'
    with pytest.raises(ValueError, match="^--precision: precision='fp16' "
                       'needs a GPU'):
        set_test_precision(model, 'mmseg', 'pytorch', 'fp16')
