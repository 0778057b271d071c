from ..utils.atomic_io import AtomicLocalBackend, atomic_write
from ..utils.preemption import EXIT_PREEMPTED, Preempted
from . import hooks, optimizers  # noqa: F401  (registration)
from .resume import find_resumable_checkpoint, load_resumable

__all__ = [
    'AtomicLocalBackend', 'EXIT_PREEMPTED', 'Preempted', 'atomic_write',
    'find_resumable_checkpoint', 'load_resumable'
]
