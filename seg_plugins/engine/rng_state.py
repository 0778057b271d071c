"""Capture and restore every RNG a training step draws from.

mmengine 0.10.7 saves none of them: a resumed run re-seeds and so draws
other dropout masks (and, with ``num_workers=0``, other augmentation) than
the run it resumes.
"""
import random

import numpy as np
import torch


def capture_rng_state() -> dict:
    """The python, numpy, torch (CPU and every CUDA device) RNG states.

    Returns:
        dict: Picklable by ``torch.save(weights_only=True)`` loaders: numpy's
        state is stored as a plain tuple of python ints and a uint32 tensor.
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(gauss)),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(_tuples(state['python']))
    kind, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state(
        (kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _tuples(obj):
    """``random.setstate`` wants tuples; a round trip may give lists."""
    if isinstance(obj, (list, tuple)):
        return tuple(_tuples(o) for o in obj)
    return obj
