"""Turns on the CPU between a model that takes every core and the threads
that read and write around it.

When the model's threads take every core (torch on the CPU, by default), a
reader or writer thread running beside a forward pass takes a core from
one of them, and the others wait for it at the next barrier, so the
forward slows by about as much as the side work costs. Taking turns,
the side work runs between forward passes, split over the cores (the two
dates read at once), and costs about its CPU time over the cores. Where
the model leaves cores free (on a GPU, or with fewer threads than cores),
side work is better left to overlap it: :func:`model_takes_every_core`.
"""
import os
import threading
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


def usable_cores() -> int:
    """CPUs this process may run on (its affinity, not the machine's)."""
    return len(os.sched_getaffinity(0))


def model_takes_every_core(model: nn.Module) -> bool:
    """Whether ``model`` runs on the CPU with a thread per usable core:
    torch's intra-op threads, or an ONNX Runtime session's
    (``ORTSegmentor``) on its CPU provider."""
    session = getattr(model, 'session', None)
    if session is not None:
        return (session.get_providers()[0] == 'CPUExecutionProvider'
                and session.get_session_options().intra_op_num_threads
                >= usable_cores())
    param = next(model.parameters(), None)
    on_cpu = param is None or param.device.type == 'cpu'
    return on_cpu and torch.get_num_threads() >= usable_cores()


class CPUTurns:
    """Forward passes one at a time and alone; side work (reading,
    writing) in any number of threads at once, but never during a forward
    pass. A forward pass waiting goes before side work not yet started:
    the model is the bottleneck, side work fills its gaps.

    No thread may wait on another (a queue) while holding a turn, or the
    two could wait for each other.

    Args:
        enabled (bool): Take turns; when False both context managers
            return at once and everything overlaps.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._cond = threading.Condition()
        self._side = 0  # side threads inside their turn
        self._model = False  # a forward pass inside its turn
        self._waiting = 0  # forward passes waiting for their turn

    @contextmanager
    def model(self) -> Iterator[None]:
        """A forward pass's turn: waits for side work under way."""
        if not self.enabled:
            yield
            return
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(
                    lambda: self._side == 0 and not self._model)
            finally:
                self._waiting -= 1
            self._model = True
        try:
            yield
        finally:
            with self._cond:
                self._model = False
                self._cond.notify_all()

    @contextmanager
    def side(self) -> Iterator[None]:
        """A piece of side work's turn: waits while a forward pass runs or
        waits to."""
        if not self.enabled:
            yield
            return
        with self._cond:
            self._cond.wait_for(
                lambda: not self._model and not self._waiting)
            self._side += 1
        try:
            yield
        finally:
            with self._cond:
                self._side -= 1
                self._cond.notify_all()
