r"""Runner overhead: tools/train.py's runner vs a bare PyTorch loop.

Both train the same model (built from the config), with the same batch size,
input size and image files, for the same number of timed iterations after
the same warm-up. The bare loop is the U-Net tutorial's ("图像分割"): a
Dataset reading PNGs with PIL, a DataLoader, forward, cross entropy,
backward, step.

    python tools/analysis/benchmark_train.py configs/unet_strided_demo.py \
        --data-root data/shapes --iters 30

Prints iterations/s of both and the runner/bare time-per-iteration ratio
(target <= 1.10 on CPU).

``--amp``: instead, the runner in fp32 against the runner with
``tools/train.py --amp`` (bf16 autocast on the CPU, ``BF16OptimWrapper``,
channels-last layout), and fp32 in that layout, to tell layout from
precision; the config's own pipeline, on a synthetic LEVIR-layout change
set of ``--size`` pairs (no ``--data-root`` needed):

    python tools/analysis/benchmark_train.py configs/changedet_demo.py \
        --amp --size 64 --batch-size 8        # the demo's size
    python tools/analysis/benchmark_train.py configs/changedet_demo.py \
        --amp --size 256 --batch-size 8       # 256^2 crops

Targets (CPU with AMX): >= 1.3x per iteration at the demo's size, >= 1.8x
at 256^2.

The loops and the timing: ``seg_plugins.benchmarks.training_*``.
"""
import argparse

from seg_plugins.benchmarks.training_amp import amp_line, compare_amp
from seg_plugins.benchmarks.training_overhead import (
    compare_overhead,
    overhead_lines,
)
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main():
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--data-root')
    parser.add_argument('--amp', action='store_true',
                        help='fp32 against bf16 mixed precision')
    parser.add_argument('--size', type=int, default=64,
                        help='--amp: side of the synthetic pairs and crops')
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--work-dir', default='work_dirs/benchmark_train')
    args = parser.parse_args()
    if args.amp:
        times = compare_amp(args.config, args.size, args.batch_size,
                            args.iters, args.warmup, args.work_dir,
                            args.data_root)
        print(amp_line(times, args.batch_size, args.size))
        return
    if not args.data_root:
        parser.error('--data-root is needed (without --amp)')
    times = compare_overhead(args.config, args.data_root, args.batch_size,
                             args.iters, args.warmup, args.work_dir)
    print('\n'.join(overhead_lines(*times)))


if __name__ == '__main__':
    main()
