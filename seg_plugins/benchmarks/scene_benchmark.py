"""The scene benchmark's runs (``tools/analysis/benchmark_scene.py``):
for each kind and size, timed scene and bare runs in turn, then the
live-memory peaks, each in a process of its own, printed as a table."""
import json
from typing import List

from .scene_child import forwarded, option_flags, run_child
from .scene_pairs import scene_pair
from .scene_table import HEADER, LEGEND, format_row, size_row

# Options every measuring child gets from the tool's command line.
CHILD_OPTIONS = ('tile', 'overlap', 'batch_size', 'threads', 'base_channels',
                 'work_dir', 'gdal_cache_mb')


def run_mode(script: str, args, kind: str, pair: dict, mode: str,
             live_memory: bool = False, **extra) -> dict:
    """:func:`~seg_plugins.benchmarks.scene_measure.measure` of ``mode`` in
    a new process running ``script``.

    Args:
        script (str): the benchmark tool, which measures when given
            ``--mode``.
        args (argparse.Namespace): the tool's options.
        kind (str): the pair's kind.
        pair (dict): the pair's paths.
        mode (str): ``scene``, ``bare`` or ``infer_change``.
        live_memory (bool): with glibc's mmap threshold fixed (slower;
            only for peaks).
        **extra: more hidden options, by their flag name (``tiles``,
            ``warm-pair``).

    Returns:
        dict: the measurement.
    """
    flags = option_flags(dict(mode=mode, kind=kind, pair=json.dumps(pair)))
    flags += option_flags(forwarded(args, CHILD_OPTIONS))
    if args.reuse_memory:
        flags.append('--reuse-memory')
    flags += option_flags(extra)
    return run_child(script, flags, f'{mode} on {pair["a"]}', live_memory)


def measure_size(script: str, args, kind: str, size: int, warm: str,
                 first_peak: float, model_mb: float) -> dict:
    """One kind and size: ``args.repeat`` scene and bare runs in turn, the
    scene's live-memory peak, the bare forward's (unless ``model_mb``
    already holds it) and, at ``args.memory_size``, ``infer_change``.

    Args:
        script (str): the benchmark tool.
        args (argparse.Namespace): the tool's options.
        kind (str): the pair's kind.
        size (int): the scene's side, pixels.
        warm (str): JSON of the 512^2 warm-up pair's paths.
        first_peak (float): the smallest size's peak (None: this one).
        model_mb (float): the bare forward's peak (None: measure it).

    Returns:
        dict: the row (:func:`~seg_plugins.benchmarks.scene_table.size_row`).
    """
    pair = scene_pair(args.work_dir, kind, size)
    scenes, bares = [], []
    for i in range(args.repeat):
        # Scene first, then bare first (the first pair tells the bare runs
        # the tiles to run): a drift of the machine's speed within a pair
        # then cancels out of the median.
        order = ('scene', 'bare') if i % 2 == 0 else ('bare', 'scene')
        for mode in order:
            if mode == 'scene':
                scenes.append(run_mode(script, args, kind, pair, 'scene',
                                       **{'warm-pair': warm}))
            else:
                bares.append(run_mode(script, args, kind, pair, 'bare',
                                      tiles=scenes[0]['tiles']))
    peak = run_mode(script, args, kind, pair, 'scene',
                    live_memory=True)['peak_mb']
    model_mb = model_mb or run_mode(script, args, kind, pair, 'bare',
                                    live_memory=True,
                                    tiles=scenes[0]['tiles'])['peak_mb']
    infer_change_s = None
    if size == args.memory_size:
        infer_change_s = run_mode(script, args, kind, pair,
                                  'infer_change')['seconds']
    return size_row(kind, size, scenes, bares, peak, first_peak or peak,
                    model_mb, infer_change_s)


def run_benchmark(script: str, args) -> List[dict]:
    """Every kind and size of ``args``, each row printed as it is measured,
    then the legend.

    Args:
        script (str): the benchmark tool, run again for each measurement.
        args (argparse.Namespace): the tool's options.

    Returns:
        list[dict]: the rows, for
        :func:`~seg_plugins.benchmarks.scene_plot.plot_rows`.
    """
    print(HEADER)
    rows = []
    for kind in args.kinds:
        first_peak = model_mb = None
        warm = json.dumps(scene_pair(args.work_dir, kind, 512))
        for size in args.sizes:
            row = measure_size(script, args, kind, size, warm, first_peak,
                               model_mb)
            first_peak, model_mb = first_peak or row['peak'], row['model_mb']
            print(format_row(row), flush=True)
            rows.append(row)
    print(LEGEND)
    return rows
