"""Let mmengine 0.10.7 resume on torch >= 2.6 without ``weights_only=False``.

torch 2.6 made ``torch.load(weights_only=True)`` the default. A checkpoint
written by mmengine's runner holds, besides tensors, its ``MessageHub`` state:
``HistoryBuffer`` objects (whose ``statistics_methods`` pickle as
``getattr(HistoryBuffer, 'min')`` ...) and numpy arrays/scalars. Those globals,
and only those, are allow-listed here; ``getattr`` is replaced by a version
that resolves nothing but HistoryBuffer's statistics methods. Every other
file (``load_from``, ``init_cfg`` pretrained weights) still loads with
``weights_only=True`` and would still refuse anything else.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_np_core = getattr(np, '_core', None) or np.core


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to ``HistoryBuffer``'s public methods."""
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed; only '
        'methods of mmengine HistoryBuffer are')


def checkpoint_safe_globals():
    """The globals an mmengine runner checkpoint needs, as accepted by
    ``torch.serialization.add_safe_globals`` (objects or (object, name))."""
    np_dtypes = [type(np.dtype(t)) for t in (
        np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
        np.float16, np.float32, np.float64)]
    reconstruct = _np_core.multiarray._reconstruct
    scalar = _np_core.multiarray.scalar
    return [
        HistoryBuffer, np.ndarray, np.dtype, *np_dtypes,
        # numpy 1.x wrote these under numpy.core, numpy 2.x under numpy._core.
        (reconstruct, 'numpy.core.multiarray._reconstruct'),
        (reconstruct, 'numpy._core.multiarray._reconstruct'),
        (scalar, 'numpy.core.multiarray.scalar'),
        (scalar, 'numpy._core.multiarray.scalar'),
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr'),
    ]


def register_checkpoint_safe_globals():
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``."""
    if hasattr(torch.serialization, 'add_safe_globals'):  # torch >= 2.4
        torch.serialization.add_safe_globals(checkpoint_safe_globals())
