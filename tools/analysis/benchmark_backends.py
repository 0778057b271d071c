r"""Throughput of eager PyTorch, eager channels_last and ONNX Runtime, per
config family, measured in one run on the same inputs.

    python tools/analysis/benchmark_backends.py [--families unet ...] \
        [--threads N] [--repeat 5] [--scene 4096] [--ghz 2.1]

Each family's network (random weights: speed does not depend on them) is
timed on one batch of normalised input, from the network's input to its
probabilities: eager fp32 under ``torch.no_grad()`` (the baseline), the same
under ``torch.inference_mode()``, eager with the model and input in
``channels_last``, and the graph exported by seg_plugins.deploy run by ONNX
Runtime's CPU provider. Rates are megapixels of input per second (fastest
of ``--repeat`` runs); ratios are against eager in the same run.

``--scene S``: also the scene path end to end on an S x S random pair with
each backend (one run each): ``infer_change_scene`` (GeoTIFF in, COG out)
if seg_plugins.apis has it, else the tiled ``infer_change`` on arrays.

Precision rows: eager bf16 (autocast, channels_last) and OpenVINO in fp32
and bf16 (its CPU plugin's INFERENCE_PRECISION_HINT) run the same input;
"same map" is the share of pixels whose change decision (p > 0.5, or the
argmax) equals eager fp32's. Every row also gives the network's MACs, the
GFLOP/s it achieved (2 FLOP per MAC) and that as a share of the CPU's peak
for its precision: fp32 on AVX-512, 64 FLOP/cycle/core (two FMA units);
bf16 on AMX, 1024 FLOP/cycle/core (AVX512-BF16 without AMX: 128);
``--ghz`` sets the clock (default: /proc/cpuinfo's).

Targets (CPU): ONNX Runtime >= 1.8x eager for the change U-Net; the scene
path with ONNX Runtime >= 1.6x the eager scene path; bf16 scene path
>= 2.5x eager fp32, and the best backend >= 3x.
"""
import argparse
import os

import torch

from seg_plugins.benchmarks.backends_benchmark import run_backends
from seg_plugins.benchmarks.backends_families import FAMILIES
from seg_plugins.benchmarks.backends_peak import cpu_ghz
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main():
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--families', nargs='*', default=list(FAMILIES),
                        choices=list(FAMILIES))
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--scene', type=int, default=0,
                        help='side of the scene pair (0: skip)')
    parser.add_argument('--ghz', type=float, default=None,
                        help='CPU clock for the peak (default: '
                        '/proc/cpuinfo)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ghz = args.ghz or cpu_ghz()
    print(f'threads={args.threads} (torch, ONNX Runtime, OpenVINO), fastest '
          f'of {args.repeat}, torch {torch.__version__}, {ghz:.2f} GHz')
    run_backends(args, ghz)


if __name__ == '__main__':
    main()
