"""The resident-memory readings the benchmarks print."""
import numpy as np

from seg_plugins.utils.rss import peak_rss_mb, rss_mb


def test_rss_follows_pages_touched():
    before = rss_mb()
    block = np.ones(64 * 2**20, np.uint8)  # every page written
    grown = rss_mb() - before
    assert 60 < grown < 80
    assert peak_rss_mb() >= before + grown - 1
    del block
