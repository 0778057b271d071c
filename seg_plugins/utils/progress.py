"""Progress of a long loop, readable both live and in a log file.

On a terminal it is mmengine's ``ProgressBar``, redrawn in place with
``\\r``. Anywhere else (a file, a pipe, CI) that bar would put every update
on one line of the log, so a plain line is written instead about every
tenth of the work or every 30 s, whichever comes first, with the count, the
rate and the time left.
"""
import math
import sys
import time
from datetime import timedelta
from typing import Optional, TextIO


def _duration(seconds: float) -> str:
    """``h:mm:ss``, as mmengine's logger writes its eta."""
    return str(timedelta(seconds=int(seconds + 0.5)))


class Progress:
    """A progress display of ``total`` steps on ``file``.

    Args:
        total (int): Number of steps expected; 0 when unknown (a count
            without percentage or ETA).
        unit (str): What a step is, plural (``'tiles'``, ``'chips'``):
            shown in the rate of the plain lines. Defaults to ``'tasks'``.
        file (TextIO, optional): Where to write; ``sys.stdout`` (as it is
            when called) if None.
        live (bool, optional): The live bar (True) or plain lines (False);
            if None, the live bar exactly when ``file`` is a terminal.
        fraction (float): Plain lines: at most this share of ``total``
            between two lines. Defaults to 0.1.
        seconds (float): Plain lines: at most this long between two lines
            while steps complete. Defaults to 30.

    Examples:
        >>> bar = Progress(len(tiles), 'tiles')
        >>> for tile in tiles:
        ...     run(tile)
        ...     bar.update()
        >>> bar.close()
    """

    def __init__(self,
                 total: int,
                 unit: str = 'tasks',
                 file: Optional[TextIO] = None,
                 live: Optional[bool] = None,
                 fraction: float = 0.1,
                 seconds: float = 30.0):
        assert total >= 0, f'total must be >= 0, got {total}'
        assert 0 < fraction <= 1, f'fraction must be in (0, 1], got {fraction}'
        self.total = total
        self.unit = unit
        self.file = sys.stdout if file is None else file
        if live is None:
            isatty = getattr(self.file, 'isatty', None)
            live = bool(isatty and isatty())
        self.live = live
        self.fraction = fraction
        self.seconds = seconds
        self.completed = 0
        self.start = self._last_time = time.monotonic()
        self._last_count = 0
        self._tenth = 1  # the next mark's index (of 1 / fraction)
        self._bar = None
        if live:
            from mmengine.utils import ProgressBar
            self._bar = ProgressBar(total, file=self.file)

    def _mark(self, k: int) -> int:
        """The step count that completes the ``k``-th ``fraction`` of the
        work (at least ``k`` steps)."""
        # The tolerance keeps float products such as 5 * 15.6 on 78.
        return math.ceil(k * max(self.total * self.fraction, 1) - 1e-9)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps done."""
        assert n > 0, f'n must be > 0, got {n}'
        self.completed += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if (self.total and self.completed >= self._mark(self._tenth)
                or now - self._last_time >= self.seconds):
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.completed / elapsed if elapsed > 0 else float('inf')
        text = f'{self.completed}/{self.total}' if self.total else \
            f'{self.completed}'
        if self.total:
            text += f', {100 * self.completed / self.total:.0f}%'
        text += f', {rate:.1f} {self.unit}/s, elapsed: {_duration(elapsed)}'
        if self.total and 0 < self.completed <= self.total:
            left = elapsed * (self.total - self.completed) / self.completed
            text += f', ETA: {_duration(left)}'
        self.file.write(text + '\n')
        self.file.flush()
        self._last_time, self._last_count = now, self.completed
        while self._mark(self._tenth) <= self.completed:
            self._tenth += 1

    def close(self) -> None:
        """End the display: the live bar's line is ended; plain lines end
        with one for the last count if it was not written yet (a loop cut
        short)."""
        if self._bar is not None:
            self.file.write('\n')
            self.file.flush()
        elif self.completed != self._last_count:
            self._line(time.monotonic())

    def __enter__(self) -> 'Progress':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
