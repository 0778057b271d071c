"""Keep freed memory for reuse instead of handing it back to the kernel.

PyTorch allocates CPU tensors with glibc's malloc. glibc serves large
blocks (above a threshold that grows only up to 32 MB) with ``mmap`` and
trims the heap's top as soon as it is free, so every forward pass of a
convolutional net gets fresh pages from the kernel, which zeroes them one
page fault at a time: thousands of page faults and a visible share of
kernel time per batch. With the settings below the pages are reused.

The cost: memory stays at its high-water mark, with whatever
fragmentation it holds. Since the scene reader queues its tiles as copies
and all threads share one arena, that mark does not grow with the scene,
so ``tools/infer.py`` applies it by default (``--no-reuse-memory`` to leave
glibc alone); ``tools/analysis/benchmark_scene.py --reuse-memory`` measures
the peak memory either way.

Threads share the one arena (``M_ARENA_MAX`` 1): glibc otherwise gives a
new thread an arena of its own, with none of the memory freed before, so
the scene reader's first reads in each run page-fault fresh buffers and
the model waits for its first tiles. The threads here allocate a few large
buffers, not many small ones, so the arena's lock is not contended.

This is what PyTorch's CPU tuning guide gets from preloading jemalloc or
tcmalloc, without a library to install.
"""
import ctypes
import ctypes.util
import os

# mallopt parameters, from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
_USER_SETTINGS = ('MALLOC_MMAP_MAX_', 'MALLOC_MMAP_THRESHOLD_',
                  'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_',
                  'MALLOC_ARENA_MAX')


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed memory: no ``mmap`` for large
    blocks, no trimming of the heap, one arena for all threads.
    Process-wide, for the rest of the process: for entry points
    (``tools/infer.py``, unless ``--no-reuse-memory``), never called by a
    library function.

    Returns:
        bool: True if applied; False without glibc, or when the user set
        any of glibc's ``MALLOC_*`` tunables in the environment (theirs
        win).
    """
    if any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 (glibc, not musl)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(param, value) for param, value in (
        (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1), (M_ARENA_MAX, 1)))
