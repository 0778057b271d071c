"""The table that the backends benchmark
(``tools/analysis/benchmark_backends.py``) prints."""
from typing import Dict, List

from .backends_peak import peak_gflops

HEADER = (f'{"family":<20} {"batch":>11} {"backend":<21} {"ms":>8} '
          f'{"MP/s":>7} {"x eager":>7} {"max|d|":>8} {"same map":>8} '
          f'{"GMAC":>7} {"GFLOP/s":>8} {"% peak":>6}')

TARGETS = ('targets: onnxruntime >= 1.8x eager (change_unet); scene path '
           'with onnxruntime >= 1.6x eager, bf16 >= 2.5x, the best backend '
           '>= 3x')


def family_lines(name: str, batch: str, rows: Dict[str, float], mp: float,
                 diffs: Dict[str, float], same: Dict[str, float],
                 macs: float, threads: int, ghz: float) -> List[str]:
    """One family's lines of the table under :data:`HEADER`.

    Args:
        name (str): the family.
        batch (str): its input, ``NxHxW``.
        rows (dict): seconds per backend (``eager`` among them).
        mp (float): megapixels of the batch.
        diffs (dict): max absolute difference from eager, by the
            backend's last word (``channels_last``, ``onnxruntime``).
        same (dict): share of the same change decision, by backend.
        macs (float): the batch's multiply-accumulates.
        threads (int): the cores, for the peak.
        ghz (float): the clock, for the peak.

    Returns:
        list[str]: a line per backend.
    """
    lines = []
    for backend, seconds in rows.items():
        d = diffs.get(backend.split()[-1]
                      if backend != 'eager inference_mode' else '')
        agree = same.get(backend)
        gflops = 2 * macs / seconds / 1e9
        peak = peak_gflops('bf16' if 'bf16' in backend else 'fp32',
                           threads, ghz)
        lines.append(f'{name:<20} {batch:>11} {backend:<21} '
                     f'{seconds * 1e3:8.1f} {mp / seconds:7.2f} '
                     f'{rows["eager"] / seconds:7.2f} '
                     f'{"" if d is None else f"{d:.1e}":>8} '
                     f'{"" if agree is None else f"{100 * agree:.3f}":>8} '
                     f'{macs / 1e9:7.2f} {gflops:8.1f} '
                     f'{100 * gflops / peak:6.1f}')
    return lines


def scene_lines(size: int, results: Dict[str, float],
                path: str) -> List[str]:
    """The scene path's lines: seconds, MP/s and speed-up over eager.

    Args:
        size (int): the pair's side, pixels.
        results (dict): seconds per backend (``eager`` among them).
        path (str): the function that ran the scene.

    Returns:
        list[str]: a line per backend.
    """
    mp = size**2 / 1e6
    return [f'scene {size}^2 ({path}) {backend:<21} '
            f'{seconds:8.2f} s {mp / seconds:7.2f} MP/s '
            f'{results["eager"] / seconds:5.2f} x eager'
            for backend, seconds in results.items()]
