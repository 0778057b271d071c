"""Shared checks of the ResNet-based change models (BIT, ChangerEx): build
from the real config, count, forward, and ONNX Runtime parity."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.apis import init_model
from mmseg.registry import MODELS

from seg_plugins.deploy import export_config, init_ort_model
from seg_plugins.utils.complexity import complexity
from tests.conftest import REPO
from tests.deploy.test_parity import batch, probabilities


def narrow(head_channels) -> dict:
    """cfg options cutting ResNet-18 to 16 stem and base channels (the
    layer types and the graph stay the config's); ``head_channels``: the
    decode head's ``in_channels`` for them."""
    return {'model.backbone.stem_channels': 16,
            'model.backbone.base_channels': 16,
            'model.decode_head.in_channels': head_channels}


def load_config(config: str, options=None) -> Config:
    cfg = Config.fromfile(str(REPO / config))
    cfg.merge_from_dict(options or {})
    return cfg


def build(config: str, options=None) -> torch.nn.Module:
    """``MODELS.build`` of the config's model, ``options`` merged."""
    import seg_plugins  # noqa: F401  (registration)
    init_default_scope('mmseg')
    return MODELS.build(load_config(config, options).model)


def assert_count(config: str, params: int, macs: float) -> None:
    """Parameters within 0.5 % of ``params``; MACs at one 256^2 pair
    within 1 % of ``macs`` (G), counted as mmengine's FlopAnalyzer counts."""
    got_params, got_macs = complexity(build(config), (256, 256))
    assert abs(got_params - params) <= 0.005 * params, got_params
    assert abs(got_macs / 1e9 - macs) <= 0.01 * macs, got_macs


def assert_ort_parity(config: str, tmp_path, options=None,
                      sizes=((32, 32), (64, 32)),
                      export_shape=(32, 32), prepare=None):
    """Export the config's model (random weights, ``options`` merged) with
    dynamic axes; ONNX Runtime's probabilities equal PyTorch's within 1e-4
    at ``sizes``. ``prepare(model)``, if given, sets weights before the
    export (e.g. attention scales that start at 0).

    Returns:
        tuple: the Config, the checkpoint and the .onnx file.
    """
    cfg = load_config(config, options)
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    # BN statistics of a trained model, not the init's (0, 1).
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    if prepare is not None:
        prepare(model)
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(dataset_meta=dict(
                    classes=('unchanged', 'changed')))}, ckpt)
    onnx_file = str(tmp_path / 'model.onnx')
    export_config(cfg, str(ckpt), onnx_file, shape=export_shape,
                  dynamic=True)
    ort_model = init_ort_model(cfg, onnx_file)
    for (h, w), n in zip(sizes, (1, 2)):
        with torch.no_grad():
            ref = model.test_step(batch(cfg, (h, w), n, seed=h * w))
        out = ort_model.test_step(batch(cfg, (h, w), n, seed=h * w))
        for r, o in zip(ref, out):
            assert o.seg_logits.data.shape == (2, h, w)
            diff = (probabilities(r) - probabilities(o)).abs().max()
            assert diff <= 1e-4, f'{config} at {h}x{w}: max |d| {diff}'
            agree = (r.pred_sem_seg.data == o.pred_sem_seg.data).float()
            assert agree.mean() >= 0.9999
    return cfg, ckpt, onnx_file


def assert_scene_inference(cfg, ckpt, onnx_file, tmp_path,
                           pair=None) -> None:
    """A 96 x 80 GeoTIFF pair (``pair``, else one written to ``tmp_path``)
    through scene inference (64^2 tiles) with the PyTorch and the ONNX
    Runtime backends: the same georeferenced map."""
    import rasterio

    from seg_plugins.apis import infer_change_scene, init_change_model
    from tests.geo.scene_fixture import scene_bands, write_tif
    a, b = pair or (write_tif(tmp_path / 'a.tif', scene_bands(96, 80, 1)),
                    write_tif(tmp_path / 'b.tif', scene_bands(96, 80, 2)))
    maps = []
    for backend, weights in (('pytorch', ckpt), ('onnxruntime', onnx_file)):
        model = init_change_model(cfg, str(weights), backend=backend)
        out = tmp_path / f'change_{backend}.tif'
        summary = infer_change_scene(model, str(a), str(b), str(out),
                                     tile=64, overlap=16)
        assert summary['tiles_run'] == 4, summary
        with rasterio.open(out) as src, rasterio.open(a) as src_a:
            assert src.shape == (96, 80)
            assert src.transform == src_a.transform
            maps.append(src.read(1))
    assert set(np.unique(maps[0])) <= {0, 1}
    assert (maps[0] == maps[1]).mean() >= 0.999


def random_pair(bands: int, h: int, w: int, n: int = 2) -> torch.Tensor:
    """(n, 2 * bands, h, w) normal noise, the input of the backbone."""
    rng = np.random.default_rng(bands)
    return torch.from_numpy(
        rng.standard_normal((n, 2 * bands, h, w)).astype(np.float32))
