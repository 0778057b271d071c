"""Inference precision: which dtype a device runs natively, and a segmentor
that computes its logits under autocast.

``bf16`` pays only where the hardware has bf16 matrix units (AMX or
AVX512-BF16 on x86 CPUs, compute capability >= 8.0 on CUDA); elsewhere
autocast emulates it and is slower than fp32, so ``auto`` falls back to
fp32 there.
"""
import functools
import os
from typing import Optional

import torch
from torch import nn

PRECISIONS = ('fp32', 'bf16', 'fp16', 'auto')
DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}
# Set to 0 to treat the CPU as one without native bf16 (tests the fallback).
NATIVE_BF16_ENV = 'SEG_PLUGINS_NATIVE_BF16'


def device_type(device) -> str:
    """'cpu' or 'cuda' of a device string, ``torch.device`` or tensor."""
    return torch.device(device).type


def native_bf16(device='cpu') -> bool:
    """Whether ``device`` runs bf16 matrix products in hardware.

    ``SEG_PLUGINS_NATIVE_BF16=0`` in the environment says no on any device.
    """
    if os.environ.get(NATIVE_BF16_ENV, '1') == '0':
        return False
    kind = device_type(device)
    if kind == 'cuda':
        return (torch.cuda.is_available()
                and torch.cuda.get_device_capability(
                    torch.device(device))[0] >= 8)
    if kind == 'cpu':
        cpu = torch.cpu
        # Private but stable since torch 2.1; absent means not detectable.
        amx = getattr(cpu, '_is_amx_tile_supported', lambda: False)
        avx = getattr(cpu, '_is_avx512_bf16_supported', lambda: False)
        return bool(amx() or avx())
    return False


def resolve_precision(precision: str, device='cpu') -> str:
    """The concrete precision ('fp32', 'bf16' or 'fp16') for ``device``.

    Args:
        precision (str): One of ``PRECISIONS``. 'auto' is 'bf16' where the
            device runs it natively, else 'fp32'.
        device: Where the model runs.

    Raises:
        ValueError: An unknown name, or fp16 asked of a CPU (autocast on
            the CPU has no fp16 path worth taking).
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f'precision must be one of {PRECISIONS}, got {precision!r}')
    if precision == 'auto':
        return 'bf16' if native_bf16(device) else 'fp32'
    if precision == 'fp16' and device_type(device) == 'cpu':
        raise ValueError("precision='fp16' needs a GPU; on the CPU use "
                         "'bf16' (or 'auto')")
    return precision


# What each inference backend can run besides PyTorch (which runs them all).
_GRAPH_PRECISIONS = {
    'onnxruntime': (('fp32', 'auto'),
                    'onnxruntime runs the graph in fp32 (its x86 build has '
                    'no bf16 kernels); bf16 is for the pytorch and openvino '
                    'backends'),
    'openvino': (('fp32', 'bf16', 'auto'),
                 "OpenVINO runs 'fp32', 'bf16' or 'auto'"),
}


def check_backend_precision(backend: str, precision: str) -> None:
    """Refuse a precision the inference ``backend`` cannot run.

    Raises:
        ValueError: naming the precision and what the backend runs.
    """
    allowed, why = _GRAPH_PRECISIONS.get(backend, (PRECISIONS, ''))
    if precision not in allowed:
        raise ValueError(f'precision={precision!r}: {why}')


def _autocast_encode_decode(encode_decode, kind: str, dtype: torch.dtype):

    @functools.wraps(encode_decode)
    def run(inputs, batch_img_metas):
        # Weights stay fp32; autocast runs the matrix ops in `dtype` and the
        # logits come back as fp32 before any threshold, softmax or output.
        with torch.autocast(kind, dtype=dtype, cache_enabled=False):
            logits = encode_decode(inputs, batch_img_metas)
        return logits.float()

    run.precision_dtype = dtype
    return run


def set_precision(model: nn.Module, precision: str,
                  device: Optional[str] = None) -> str:
    """Make an mmseg segmentor predict in ``precision``.

    Wraps the instance's ``encode_decode`` (the step every mmseg
    inference mode, whole or slide, goes through) in autocast; training
    (``loss``) is left alone: mixed-precision training is the optimizer
    wrapper's job. Calling it again replaces the earlier choice.

    Args:
        model (nn.Module): An mmseg ``EncoderDecoder`` (or a model wrapper
            holding one as ``module``).
        precision (str): One of ``PRECISIONS``.
        device (str, optional): Where it runs; default: its parameters'.

    Returns:
        str: The precision in force ('fp32', 'bf16' or 'fp16').
    """
    seg = getattr(model, 'module', model)
    if not hasattr(seg, 'encode_decode'):
        raise TypeError(f'{type(seg).__name__} has no encode_decode: '
                        'precision applies to mmseg segmentors')
    if hasattr(seg, 'onnx_file'):
        raise ValueError(
            f'{type(seg).__name__} runs an exported graph: choose its '
            'precision when building it (init_change_model(precision=...))')
    if device is None:
        device = next(seg.parameters()).device
    chosen = resolve_precision(precision, device)
    # Drop an earlier wrapper: the class's method is the fp32 one.
    seg.__dict__.pop('encode_decode', None)
    if chosen != 'fp32':
        seg.encode_decode = _autocast_encode_decode(
            seg.encode_decode, device_type(device), DTYPES[chosen])
    return chosen


def model_precision(model: nn.Module) -> str:
    """The precision :func:`set_precision` put on ``model`` ('fp32' if
    none)."""
    seg = getattr(model, 'module', model)
    if hasattr(seg, 'onnx_file'):  # a graph backend: its own setting
        return getattr(seg, 'precision', 'fp32')
    dtype = getattr(seg.__dict__.get('encode_decode'), 'precision_dtype',
                    None)
    return {v: k for k, v in DTYPES.items()}.get(dtype, 'fp32')
