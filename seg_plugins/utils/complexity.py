"""Parameters and multiply-accumulates of a segmentor at one input size.

MACs are counted by ``torch.utils.flop_counter.FlopCounterMode`` over what
inference runs: backbone, neck and decode head (not the auxiliary head, a
training-time branch, nor the final resize): convolutions, transposed
convolutions, matrix products and attention. It counts 2 FLOPs per multiply-accumulate; MACs are half.
Element-wise work (normalisation, activations, pooling, interpolation) is
not counted, as in the MAC counts papers report.
"""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def _build(cfg) -> nn.Module:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = cfg if isinstance(cfg, Config) else Config.fromfile(cfg)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
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
               shape: Sequence[int] = (256, 256)) -> Tuple[int, int]:
    """Parameters (auxiliary head included) and inference MACs of one
    forward pass on a single input.

    Args:
        cfg_or_model (str | Config | nn.Module): a config file or Config
            (its ``model`` is built, random weights) or a built segmentor.
        shape (Sequence[int]): (H, W) of the input; for a change model one
            pair of that size.

    Returns:
        tuple[int, int]: (parameters, multiply-accumulates).
    """
    model = (cfg_or_model if isinstance(cfg_or_model, nn.Module) else
             _build(cfg_or_model))
    from torch.utils.flop_counter import FlopCounterMode
    inputs = torch.zeros(1, input_channels(model), *shape)
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            # mmseg's tensor mode: backbone, neck and decode head, no
            # resize to the input size and no auxiliary head.
            if hasattr(model, 'decode_head'):
                model(inputs, mode='tensor')
            else:
                model(inputs)
    finally:
        model.train(was_training)
    return count_params(model), counter.get_total_flops() // 2
