"""Thread plumbing of the scene pipeline: workers that hand their errors to
the caller, queue puts that give up once the run stops, and a pool that
counts its threads' CPU time."""
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional

import rasterio

END = object()  # the last item a worker sends down its queue


class Failed:
    """An exception raised in a worker thread, to re-raise in the caller.

    Args:
        error (BaseException): What the worker raised.
    """

    def __init__(self, error: BaseException):
        self.error = error


def put_until_stopped(q: queue.Queue, item, stop: threading.Event) -> bool:
    """``q.put`` that gives up once ``stop`` is set (the consumer died).

    Returns:
        bool: Whether ``item`` was queued.
    """
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            pass
    return False


def start_worker(target: Callable[[], None], stop: threading.Event,
                 out_q: Optional[queue.Queue], errors: List[BaseException],
                 env: dict, cpu: Optional[dict] = None,
                 name: str = '') -> threading.Thread:
    """Run ``target()`` in a daemon thread under its own GDAL options
    ``env``; an exception is kept in ``errors``, sets ``stop`` and is sent
    down ``out_q`` (as :class:`Failed`), which ends with :data:`END`
    either way. The thread's CPU seconds go to ``cpu[name]``."""

    def run():
        start = time.thread_time()
        try:
            with rasterio.Env(**env):
                target()
        except BaseException as e:  # re-raised by the caller
            errors.append(e)
            stop.set()
            if out_q is not None:
                out_q.put(Failed(e))
        finally:
            if cpu is not None:
                cpu[name] = time.thread_time() - start
            if out_q is not None:
                put_until_stopped(out_q, END, threading.Event())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class TimedPool(ThreadPoolExecutor):
    """Threads that add their tasks' CPU time to ``cpu_seconds``.

    Args:
        workers (int): Threads of the pool.
    """

    def __init__(self, workers: int):
        super().__init__(workers)
        self.cpu_seconds = 0.0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        """``ThreadPoolExecutor.submit``, the task's CPU time counted."""

        def timed():
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.cpu_seconds += time.thread_time() - start

        return super().submit(timed)
