"""Graceful stop on SIGTERM / SIGINT (what slurm, Kubernetes and Ctrl-C send).

The first signal only raises a flag; :class:`SafeCheckpointHook` reads it
after each training iteration, writes a checkpoint and exits with
:data:`EXIT_PREEMPTED`. A second signal ends the process at once, as the
signal would without this handler. ``tools/infer.py`` uses
:class:`StopSignal` the same way for scene runs (``infer_change_scene``'s
``should_stop``), without the all-reduce: its ranks share nothing.

In a distributed job the ranks get the signal at different moments (or only
some of them get it): the flag is all-reduced (max) after every iteration,
so every rank stops after the same one and nobody waits in a collective for
a rank that has left.
"""
import os
import signal
import threading
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_distributed

# EX_TEMPFAIL (sysexits.h): "temporary failure, the user is invited to
# retry". Distinct from 1 (errors), 130/143 (killed by SIGINT/SIGTERM).
EXIT_PREEMPTED = 75

_SIGNALS = ('SIGTERM', 'SIGINT')


class Preempted(SystemExit):
    """A run stopped on a signal after saving its progress: training
    after writing a checkpoint, scene inference (``SceneStopped``) after
    saving the tiles done.

    A ``SystemExit``: a script that does not catch it exits with
    :data:`EXIT_PREEMPTED` and no traceback.
    """

    def __init__(self):
        super().__init__(EXIT_PREEMPTED)


class StopSignal:
    """Catch SIGTERM / SIGINT and remember the first one.

    Installed when the hook is built, i.e. before the train dataloader forks
    its workers: the workers inherit the handler and ignore the signal (a
    process-group signal, e.g. Ctrl-C, would otherwise kill them and crash
    the main process before it could write). Outside training (``armed``
    false), the process behaves as without the handler.

    Args:
        notice (str, optional): Written to stderr when the first signal is
            caught (``{signal}`` replaced by its name), so that whoever
            pressed Ctrl-C sees it taken before the run reaches its next
            stopping point; by ``os.write``: buffered streams must not be
            entered from a handler that may interrupt them.
    """

    def __init__(self, notice: Optional[str] = None):
        self.notice = notice
        self.received: Optional[str] = None
        self.armed = False
        self._owner = os.getpid()
        self._previous = {}
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal works only there
        for name in _SIGNALS:
            signum = getattr(signal, name)
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        if os.getpid() != self._owner:
            return  # a dataloader worker: its parent decides
        if self.armed and self.received is None:
            self.received = signal.Signals(signum).name
            if self.notice:
                os.write(2, self.notice.format(signal=self.received).encode())
            return
        # A second signal, or one outside training: what it would have done.
        previous = self._previous.get(signum, signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def should_stop(self) -> bool:
        """Whether any rank received a signal; a collective when distributed.

        Every rank must call it at the same point (after each iteration).
        """
        stop = self.received is not None
        if is_distributed() and get_world_size() > 1:
            flag = torch.tensor([int(stop)], dtype=torch.int32)
            all_reduce(flag, op='max')
            stop = bool(flag.item())
        return stop

    def restore(self):
        """Put the previous handlers back."""
        if os.getpid() != self._owner:
            return
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._handle and \
                    previous is not None:
                signal.signal(signum, previous)
        self._previous = {}
