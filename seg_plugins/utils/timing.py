"""Wall-clock timing as the benchmarks under tools/analysis/ report it."""
import time
from typing import Callable


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn``, after one
    untimed call (allocator, kernels, ONNX Runtime's arena warm up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
