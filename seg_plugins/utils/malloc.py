"""Keep freed memory for reuse instead of handing it back to the kernel.

PyTorch allocates CPU tensors with glibc's malloc. glibc serves large
blocks (above a threshold that grows only up to 32 MB) with ``mmap`` and
trims the heap's top as soon as it is free, so every forward pass of a
convolutional net gets fresh pages from the kernel, which zeroes them one
page fault at a time. On the 4-band change U-Net (batch 4 of 256^2, 2 CPU
cores) that was 6,000-15,000 page faults and 15-35% of the time per batch,
varying from process to process; with the settings below, none, and the
same forward took 0.70-0.90x the time (``benchmark_scene.py``, which calls
this in all its timed runs). Memory is kept at its high-water mark instead
of being returned between batches: peak memory does not change.

This is what PyTorch's CPU tuning guide gets from preloading jemalloc or
tcmalloc, without a library to install.
"""
import ctypes
import ctypes.util
import os

# mallopt parameters, from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
_USER_SETTINGS = ('MALLOC_MMAP_MAX_', 'MALLOC_MMAP_THRESHOLD_',
                  'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_')


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed memory: no ``mmap`` for large
    blocks, no trimming of the heap. Process-wide, for the rest of the
    process (the tools call it; a library function never does).

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
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(
        mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
