"""The semantic-change scene benchmark's runs
(``tools/analysis/benchmark_scd_scene.py``): each size, and with the
baseline the binary change U-Net on the same pair, in a process of its own
with glibc's mmap threshold fixed, printed as a table."""
import json

from .scene_child import forwarded, option_flags, run_child
from .scene_pairs import scene_pair

# Options every measuring child gets from the tool's command line.
CHILD_OPTIONS = ('work_dir', 'tile', 'overlap', 'batch_size', 'threads',
                 'base_channels')

HEADER = (f'{"size":>6} {"model":>7} {"seconds":>8} {"peak MB":>8} '
          f'{"x first":>8} {"x binary":>9} {"pairs":>6}')


def format_scd_row(size: int, model: str, row: dict, first: float,
                   scd_peak: float) -> str:
    """One run as a line of the table under :data:`HEADER`.

    Args:
        size (int): the scene's side, pixels.
        model (str): ``scd`` or ``binary``.
        row (dict): the run's ``seconds``, ``peak_mb`` and ``pairs``.
        first (float): the smallest size's SCD peak, MiB.
        scd_peak (float): the SCD run's peak on the same pair, MiB (its
            ratio to the binary run's fills ``x binary``).

    Returns:
        str: the line.
    """
    vs = (f'{scd_peak / row["peak_mb"]:>9.2f}' if model == 'binary' else
          ' ' * 9)
    return (f'{size:>6} {model:>7} {row["seconds"]:>8.1f} '
            f'{row["peak_mb"]:>8.1f} {row["peak_mb"] / first:>8.2f} '
            f'{vs} {row["pairs"]:>6}')


def run_scd_benchmark(script: str, args) -> None:
    """Every size of ``args.sizes``, each printed as it is measured.

    Args:
        script (str): the benchmark tool, which measures when given
            ``--pair``.
        args (argparse.Namespace): the tool's options (``sizes``,
            ``baseline``, ``work_dir`` and the :data:`CHILD_OPTIONS`).
    """
    warm = scene_pair(args.work_dir, 'rgb8', 512)
    models = ['scd', 'binary'] if args.baseline else ['scd']
    print(HEADER)
    first = None
    for size in args.sizes:
        pair = json.dumps(dict(warm=warm, scene=scene_pair(args.work_dir,
                                                           'rgb8', size)))
        flags = option_flags(forwarded(args, CHILD_OPTIONS))
        rows = {m: run_child(script, ['--pair', pair, '--model', m, *flags],
                             m, live_memory=True) for m in models}
        first = first or rows['scd']['peak_mb']
        for m, row in rows.items():
            print(format_scd_row(size, m, row, first,
                                 rows['scd']['peak_mb']), flush=True)
