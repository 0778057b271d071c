"""Parameters and multiply-accumulates of a segmentor at one input size.

MACs follow the convention of mmengine's ``FlopAnalyzer`` (fvcore's,
which open-cd's and mmseg's ``get_flops`` tools report): one per
multiply-accumulate of convolutions, transposed convolutions and matrix
products, plus the normalisations (inference batch norm 2 per element with
affine, layer/group norm 5), interpolation (nearest 1, bilinear 4 per
output element), adaptive average pooling (1 per input element) and
``grid_sample`` (4 per output element); activations and element-wise
arithmetic are free. What inference runs is counted: backbone, neck and
decode head, not the auxiliary head (a training-time branch) nor the
final resize to the input size.

They are counted by ``torch.utils.flop_counter.FlopCounterMode`` with the
normalisation and resampling formulas added, on the ``meta`` device
(shapes only, no arithmetic), so counting a large model at a large size
takes milliseconds; a model with an op that has no meta kernel is run on
the CPU instead. mmengine's analyzer traces with TorchScript on real
tensors, seconds to minutes on a CPU; the counts agree (tested).
"""
import copy
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _norm_macs(scale: int):
    def count(x_shape, *args, out_shape=None, **kwargs) -> int:
        return 2 * scale * _numel(x_shape)  # FLOPs: 2 per MAC
    return count


def _out_macs(scale: int):
    def count(*args, out_shape=None, **kwargs) -> int:
        return 2 * scale * _numel(out_shape[0] if isinstance(
            out_shape, (tuple, list)) and isinstance(out_shape[0], (
                tuple, list, torch.Size)) else out_shape)
    return count


def _in_macs(scale: int):
    def count(x_shape, *args, out_shape=None, **kwargs) -> int:
        return 2 * scale * _numel(x_shape)
    return count


def _extra_formulas() -> dict:
    """mmengine's (fvcore's) counts of the ops FlopCounterMode skips, as
    FLOPs (2 per MAC, halved again at the end)."""
    aten = torch.ops.aten
    packets = {
        # Inference: (x - mean) / std, then scale and shift.
        aten.native_batch_norm: _norm_macs(2),
        aten._native_batch_norm_legit_no_training: _norm_macs(2),
        aten.native_layer_norm: _norm_macs(5),
        aten.native_group_norm: _norm_macs(5),
        aten.upsample_nearest2d: _out_macs(1),
        aten.upsample_bilinear2d: _out_macs(4),
        aten._adaptive_avg_pool2d: _in_macs(1),
        aten.grid_sampler_2d: _out_macs(4),
    }
    # Counted per packet; the overloads are listed too, or FlopCounterMode
    # decomposes an op it does not find (nearest upsampling into indexing).
    formulas = dict(packets)
    for packet, formula in packets.items():
        for name in packet.overloads():
            formulas[getattr(packet, name)] = formula
    return formulas


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def _build(cfg, device: str) -> nn.Module:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = cfg if isinstance(cfg, Config) else Config.fromfile(cfg)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    # Built on the meta device, the weights are neither allocated nor
    # initialised.
    with torch.device(device):
        return MODELS.build(model_cfg)


def input_channels(model: nn.Module) -> int:
    """Channels of the network's input: all dates stacked, e.g. 6 for an
    RGB pair."""
    pre = getattr(model, 'data_preprocessor', None)
    if getattr(pre, 'mean', None) is not None:
        return int(pre.mean.numel())
    backbone = getattr(model, 'backbone', model)
    return int(getattr(backbone, 'in_channels', 3) *
               getattr(backbone, 'num_images', 1))


def complexity(cfg_or_model: Union[str, 'Config', nn.Module],  # noqa: F821
               shape: Sequence[int] = (256, 256),
               device: str = 'meta') -> Tuple[int, int]:
    """Parameters (auxiliary head included) and inference MACs of one
    forward pass on a single input.

    Args:
        cfg_or_model (str | Config | nn.Module): a config file or Config
            (its ``model`` is built, random weights) or a built segmentor.
        shape (Sequence[int]): (H, W) of the input; for a change model one
            pair of that size.
        device (str): Where the counting forward runs: 'meta' (no
            arithmetic; falls back to 'cpu' for ops without meta kernels)
            or 'cpu'. A built model passed in is copied, not moved.

    Returns:
        tuple[int, int]: (parameters, multiply-accumulates).
    """
    built = not isinstance(cfg_or_model, nn.Module)
    model = _build(cfg_or_model, device) if built else cfg_or_model
    params = count_params(model)
    if device == 'meta':
        try:
            return params, _macs(
                model if built else copy.deepcopy(model).to('meta'), shape,
                'meta')
        except NotImplementedError:
            model = _build(cfg_or_model, 'cpu') if built else model
    was_training = model.training
    try:
        return params, _macs(model, shape, 'cpu')
    finally:
        model.train(was_training)


def _macs(model: nn.Module, shape: Sequence[int], device: str) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    inputs = torch.zeros(1, input_channels(model), *shape, device=device)
    model.eval()
    counter = FlopCounterMode(display=False,
                              custom_mapping=_extra_formulas())
    with torch.no_grad(), counter:
        # mmseg's tensor mode: backbone, neck and decode head, no resize
        # to the input size and no auxiliary head.
        if hasattr(model, 'decode_head'):
            model(inputs, mode='tensor')
        else:
            model(inputs)
    return counter.get_total_flops() // 2
