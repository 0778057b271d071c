"""This process's memory as the benchmarks report it (Linux)."""
import resource


def rss_mb() -> float:
    """Resident memory now, in MiB (``/proc/self/statm``)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """The highest resident memory so far, in MiB (``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
