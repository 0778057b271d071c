"""``tools/train.py --amp``: mixed precision on whatever the run has."""
import logging

import torch
from mmengine.logging import print_log

AMP_WRAPPERS = ('AmpOptimWrapper', 'BF16OptimWrapper')


def use_amp(cfg, dtype: str = 'auto') -> str:
    """Switch a config's optimizer wrapper to mixed precision.

    On a GPU, mmengine's ``AmpOptimWrapper`` (fp16 with a dynamic loss
    scaler, or bf16); on the CPU, :class:`BF16OptimWrapper` (bf16, no
    scaler: mmengine's wrapper refuses a CPU and autocast there has no
    fp16) with the model in channels-last layout (``ChannelsLastHook``).

    Args:
        cfg (Config): The training config, changed in place.
        dtype (str): 'auto' (fp16 on a GPU, bf16 on the CPU), 'fp16' or
            'bf16'.

    Returns:
        str: The autocast dtype of the run, 'fp16' or 'bf16'.
    """
    if dtype not in ('auto', 'fp16', 'bf16'):
        raise ValueError(f"--amp-dtype must be auto, fp16 or bf16, got "
                         f'{dtype!r}')
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') in AMP_WRAPPERS:
        print_log(f"AMP is already enabled in the config "
                  f"({wrapper.type}).", logger='current',
                  level=logging.WARNING)
        return 'bf16' if wrapper.type == 'BF16OptimWrapper' or wrapper.get(
            'dtype') in ('bfloat16', torch.bfloat16) else 'fp16'
    if not torch.cuda.is_available():
        if dtype == 'fp16':
            raise ValueError('--amp-dtype fp16 needs a GPU; the CPU trains '
                             'mixed precision in bf16')
        wrapper.type = 'BF16OptimWrapper'
        # oneDNN's bf16 convolutions compute in NHWC: without it each one
        # reorders its tensors, forward and backward.
        train_channels_last(cfg)
        return 'bf16'
    if dtype == 'bf16':
        wrapper.type = 'BF16OptimWrapper'
        return 'bf16'
    wrapper.type = 'AmpOptimWrapper'
    wrapper.loss_scale = 'dynamic'
    return 'fp16'


def train_channels_last(cfg) -> None:
    """Add ``ChannelsLastHook`` to a config's ``custom_hooks`` (once).

    Args:
        cfg (Config): The training config, changed in place.
    """
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == 'ChannelsLastHook' for h in hooks):
        cfg.custom_hooks = hooks + [dict(type='ChannelsLastHook')]
