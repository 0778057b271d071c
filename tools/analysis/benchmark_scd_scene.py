r"""Peak memory of semantic change over whole scenes: ``infer_change_scene``
with an SCD model (change, from-class and to-class COGs, the from-to area
table) on synthetic GeoTIFF pairs of growing size.

Each size runs in its own process: the model (``configs/scd_second_unet.py``
shrunk by ``--base-channels``, random weights: memory does not depend on
them) is loaded and run once, a 512^2 pair is run untimed (GDAL's drivers,
the threads and their buffers start once per process), then the scene;
the peak RSS above the RSS after the warm-up is reported, as a ratio to
the smallest size's and, with ``--baseline``, the SCD run's to the binary
change U-Net's on the same pair (the scene path without class maps).
glibc's mmap threshold is fixed at its default initial value
(``MALLOC_MMAP_THRESHOLD_``) so that the peak is the live memory,
repeatable (``benchmark_scene.py`` explains why).

    python tools/analysis/benchmark_scd_scene.py [--sizes 2048 4096 8192] \
        [--baseline] [--work-dir DIR]

Target: peak memory flat (within +-10%) from the smallest size to the
largest.
"""
import argparse
import json
import tempfile

from seg_plugins.benchmarks.scene_scd import measure_scd_scene
from seg_plugins.benchmarks.scene_scd_benchmark import run_scd_benchmark
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main():
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[2048, 4096, 8192])
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--base-channels', type=int, default=8)
    parser.add_argument('--baseline', action='store_true',
                        help='also run the binary change U-Net on each '
                        'pair (the scene path without class maps)')
    parser.add_argument('--pair', help=argparse.SUPPRESS)
    parser.add_argument('--model', default='scd', help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work_dir = args.work_dir or tempfile.mkdtemp(prefix='scd_bench_')
    if args.pair:
        print(json.dumps(measure_scd_scene(args)))
        return
    run_scd_benchmark(__file__, args)


if __name__ == '__main__':
    main()
