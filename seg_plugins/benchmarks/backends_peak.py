"""The CPU's peak FLOP rate, against which the backends benchmark
(``tools/analysis/benchmark_backends.py``) gives each row's share."""
import torch


def peak_gflops(precision: str, threads: int, ghz: float) -> float:
    """The CPU's peak GFLOP/s for ``precision`` on ``threads`` cores.

    fp32 on AVX-512: 64 FLOP per cycle and core (two FMA units); bf16 on
    AMX: 1024 (AVX512-BF16 without AMX: 128; neither: 64).

    Args:
        precision (str): ``fp32`` or ``bf16``.
        threads (int): the cores used.
        ghz (float): the clock.

    Returns:
        float: the peak, GFLOP/s.
    """
    per_cycle = 64
    if precision == 'bf16':
        per_cycle = (1024 if torch.cpu._is_amx_tile_supported() else
                     128 if torch.cpu._is_avx512_bf16_supported() else 64)
    return per_cycle * threads * ghz


def cpu_ghz() -> float:
    """The first core's clock from ``/proc/cpuinfo`` (NaN if absent)."""
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('cpu MHz'):
                return float(line.split(':')[1]) / 1e3
    return float('nan')
