r"""Throughput and peak memory of streamed scene inference
(``infer_change_scene``) on synthetic GeoTIFF pairs of growing size.

For each kind (3-band uint8, 4-band uint16) and size, a synthetic pair
(``seg_plugins.utils.synthetic_scene.write_scene_pair``, irregular nodata
footprints) is written once (kept in ``--work-dir`` and reused); then, each
in its own process:

* scene: ``infer_change_scene`` from the GeoTIFFs to the change and
  probability COGs; MP/s over the scene;
* bare: the model alone (``predict_tiles``) over as many tiles as the scene
  ran, on arrays already in memory, same batch size;
* infer_change (one size, ``--memory-size``): the in-memory path on the
  same pair, its arrays read whole beforehand (reading not timed).

Scene and bare alternate ``--repeat`` times, in turn scene first and bare
first; times are medians, the ratio is the median of each back-to-back
pair's (the machine's speed drifts).
Each timed scene process first runs a 512^2 pair untimed, as the bare one
runs a batch: the timed rows are the steady state, without the
once-per-process start-up. Peak memory
comes from one more scene run per size, and one bare run per kind
(``model MB``: what the forward alone needs): the peak RSS above the RSS
with the model loaded and run once (the interpreter's baseline), in a child
with glibc's mmap threshold fixed at its default initial value
(``MALLOC_MMAP_THRESHOLD_``). glibc otherwise raises the threshold as large
tensors are freed and keeps a varying share of the freed memory, so the
same run's peak varies from run to run whatever the scene size; fixed, the
peak is the live memory, repeatable. Fixing it slows the model, so the
timed runs leave it alone.

    python tools/analysis/benchmark_scene.py [--sizes 2048 4096 8192] \
        [--kinds rgb8 nir16] [--repeat 2] [--work-dir DIR] [--plot PNG]

Where the scene run's time goes besides the model is printed as ``side``.
When the model's threads take every core (the default ``--threads 2`` on
2 cores) that work cannot overlap for free: a thread working beside the
forward slows it by about as much as its own work costs
(``utils/cpu_turns.py``). So there the reader and writer take turns with the
forward passes (``turns``: yes; ``infer_change_scene``'s default), reading
the two dates at once, and cost about side / cores.
``--threads 1`` leaves a core free, as a GPU leaves the CPU while it runs
the model (``turns``: no): the ratio then shows how much of it the
pipeline hides.

Targets: scene peak memory flat within +-10% from the smallest to the
largest size; scene >= 0.90x bare forward where the model leaves the
pipeline something to hide its work behind (a GPU; ``--threads 1`` stands
in for one on a CPU machine; with the model's threads on every core the
side work comes off the model's time and the ratio stays below that);
scene >= 1.0x infer_change.
"""
import argparse
import json
import tempfile

from seg_plugins.benchmarks.scene_benchmark import run_benchmark
from seg_plugins.benchmarks.scene_measure import measure
from seg_plugins.benchmarks.scene_pairs import KINDS
from seg_plugins.benchmarks.scene_plot import plot_rows
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main():
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[2048, 4096, 8192])
    parser.add_argument('--kinds', nargs='+', default=list(KINDS),
                        choices=list(KINDS))
    parser.add_argument('--memory-size', type=int, default=4096,
                        help='size at which infer_change is also run')
    parser.add_argument('--repeat', type=int, default=1,
                        help='scene and bare runs per size (medians)')
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--base-channels', type=int, default=16,
                        help='the U-Net width (16: the configs\')')
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--gdal-cache-mb', type=int, default=16,
                        help="GDAL's block cache of the scene run")
    parser.add_argument('--reuse-memory', action='store_true',
                        help='timed runs keep freed memory for reuse '
                        '(as tools/infer.py does by default)')
    parser.add_argument('--plot', metavar='PNG',
                        help='also draw throughput and peak memory against '
                        'the scene size into this PNG')
    for hidden in ('mode', 'kind', 'pair', 'warm-pair'):
        parser.add_argument(f'--{hidden}', help=argparse.SUPPRESS)
    parser.add_argument('--tiles', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args)))
        return
    args.work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_scene_')
    rows = run_benchmark(__file__, args)
    if args.plot:
        plot_rows(rows, args.plot, args.threads)
        print(f'plot: {args.plot}')


if __name__ == '__main__':
    main()
