"""seg_plugins: segmentation components for MMSegmentation / MMDetection.

Importing the package registers every component into the upstream
registries (``mmseg.registry``, ``mmdet.registry``) and lets mmengine resume
its own checkpoints on torch >= 2.6 (see ``utils/checkpoint_compat.py``).
"""
from .utils.checkpoint_compat import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

from . import datasets, deploy, engine, evaluation, models, visualization  # noqa: E402,F401  (registration)

__all__ = ['__version__']
