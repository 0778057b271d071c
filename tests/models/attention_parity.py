"""ONNX Runtime parity of models whose attention is scaled by a learnt
factor that starts at 0 (criss-cross, row/column and channel attention):
the export must be checked with the attention switched on."""
import torch

from tests.models import resnet_cd_helpers


def switch_on_attention(model) -> None:
    """Attention scales (``gamma``, 0 at init, which would leave the
    attention out of the graph's output) set to random non-zero values."""
    gen = torch.Generator().manual_seed(1)
    for name, p in model.named_parameters():
        if name.endswith('gamma.scale'):
            p.data.copy_(torch.rand(p.shape, generator=gen) * 0.5 + 0.5)


def assert_ort_parity(config, tmp_path, options=None, **kwargs):
    """:func:`resnet_cd_helpers.assert_ort_parity` with the attention
    switched on; its (Config, checkpoint, .onnx file)."""
    return resnet_cd_helpers.assert_ort_parity(
        config, tmp_path, options, prepare=switch_on_attention, **kwargs)
