"""The resident-memory readings the benchmarks print."""
import mmap

import numpy as np

from seg_plugins.utils.rss import peak_rss_mb, rss_mb


def test_rss_follows_pages_touched():
    # Fresh pages from the kernel, not from malloc: after other tests in
    # this process, malloc may hand out memory that is resident already
    # (seg_plugins.utils.malloc keeps freed memory), and RSS would not move.
    pages = mmap.mmap(-1, 64 * 2**20)
    before = rss_mb()
    block = np.frombuffer(pages, np.uint8)
    block[:] = 1  # every page written
    grown = rss_mb() - before
    assert 60 < grown < 80
    assert peak_rss_mb() >= before + grown - 1
    del block
    pages.close()
