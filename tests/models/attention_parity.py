"""ONNX Runtime parity of models whose attention is scaled by a learnt
factor that starts at 0 (criss-cross, row/column and channel attention):
the export must be checked with the attention switched on."""
import torch

from seg_plugins.deploy import export_model, init_ort_model
from tests.deploy.test_parity import batch, probabilities
from tests.models.resnet_cd_helpers import build, load_config


def trained_like(model):
    """Random BN statistics and attention scales (0 at init, which would
    leave the attention out of the graph's output)."""
    torch.manual_seed(1)
    for name, p in model.named_parameters():
        if name.endswith('gamma.scale'):
            p.data.uniform_(0.5, 1.0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def assert_ort_parity(config, tmp_path, options=None,
                      sizes=((32, 32), (64, 32))):
    """The config's model (``options`` merged), :func:`trained_like`,
    exported with dynamic axes: ONNX Runtime's probabilities equal
    PyTorch's within 1e-4 at ``sizes`` (batch 1, then 2)."""
    cfg = load_config(config, options)
    model = trained_like(build(config, options))
    onnx_file = str(tmp_path / 'model.onnx')
    export_model(cfg, model, onnx_file, shape=(32, 32), dynamic=True)
    ort_model = init_ort_model(cfg, onnx_file)
    for (h, w), n in zip(sizes, (1, 2)):
        with torch.no_grad():
            ref = model.test_step(batch(cfg, (h, w), n, seed=h * w))
        out = ort_model.test_step(batch(cfg, (h, w), n, seed=h * w))
        for r, o in zip(ref, out):
            assert o.seg_logits.data.shape == (2, h, w)
            diff = (probabilities(r) - probabilities(o)).abs().max()
            assert diff <= 1e-4, f'{config} at {h}x{w}: max |d| {diff}'
