"""Keep freed memory for reuse instead of handing it back to the kernel.

PyTorch allocates CPU tensors with glibc's malloc. glibc serves large
blocks (above a threshold that grows only up to 32 MB) with ``mmap`` and
trims the heap's top as soon as it is free, so every forward pass of a
convolutional net gets fresh pages from the kernel, which zeroes them one
page fault at a time. On the 4-band change U-Net (batch 4 of 256^2, 2 CPU
cores, 2026-12-02) that was 26,000-61,000 page faults per batch and 1.3-3.7
s of kernel time per 25 batches, varying from process to process; with the
settings below, none, and the 25 batches took 5.0-5.2 s instead of
5.6-7.5 s (two processes each way, alternated).

The cost: memory stays at its high-water mark, with whatever
fragmentation it holds. Since the scene reader queues its tiles as copies
and all threads share one arena, that mark no longer grows with the
scene. A 4-band uint16 scene run's peak RSS above the RSS after a 512^2
warm-up run was 61-74 MB at 2048^2, 79 MB at 4096^2 and 114 MB at 8192^2
before; on 2026-12-03 it was 64-66, 54-72 and 64-92 MB (two processes
per size), and above the model's own (after one batch, before any
scene) 100-124, 93 and 93-130 MB: it varies from process to process, not
with the size (the whole process's maximum RSS, 2026-12-04: 1325, 1365
and 1338 MB at 2048^2, 8192^2 and 16384^2). So ``tools/infer.py``
applies it by default (``--no-reuse-memory`` to leave glibc alone).

Threads share the one arena (``M_ARENA_MAX`` 1): glibc otherwise gives a
new thread an arena of its own, with none of the memory freed before, and
the scene reader's first reads in each run page-faulted fresh buffers,
and the model waited 0.23-0.34 s for its first tiles (0.03 s in one
arena; 4-band uint16 4096^2, 2026-12-03). The threads here allocate a few
large buffers, not many small ones, so the arena's lock is not contended.

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
