"""Time and peak memory of tiled change inference for growing pair sizes.

Each size runs in its own process (peak RSS is per process). Memory is
reported above the input and output arrays: peak RSS minus the RSS measured
after model, inputs and a one-tile warm-up, minus the two output maps.

    python tools/analysis/benchmark_infer.py \
        --config configs/changedet_unet.py [--checkpoint CKPT] \
        [--sizes 1024 2048 4096] [--tile 256]

Targets: time per megapixel and extra memory each flat within +-20% across
sizes (ratios printed against the smallest size).
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def rss_mb() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(args) -> dict:
    import torch

    from seg_plugins.apis import infer_change, init_change_model
    torch.set_num_threads(args.threads)
    model = init_change_model(args.config, args.checkpoint, args.device)
    rng = np.random.default_rng(0)
    size = args.size
    img_a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    img_b = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    infer_change(model, img_a[:args.tile, :args.tile],
                 img_b[:args.tile, :args.tile], args.tile, args.overlap,
                 args.batch_size)  # warm-up: allocator and kernels
    base = rss_mb()
    start = time.perf_counter()
    infer_change(model, img_a, img_b, args.tile, args.overlap,
                 args.batch_size)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outputs = 2 * size * size / 2**20  # change map + probability, uint8
    return dict(size=size, seconds=seconds,
                s_per_mp=seconds / (size * size / 1e6),
                extra_mb=max(peak - base - outputs, 0.0),
                inputs_mb=2 * img_a.nbytes / 2**20)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default='configs/changedet_unet.py')
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[1024, 2048, 4096])
    parser.add_argument('--size', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    if args.size:  # child process
        print(json.dumps(measure(args)))
        return
    rows = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, '--size', str(size)]
        for key in ('config', 'checkpoint', 'tile', 'overlap', 'batch_size',
                    'threads', 'device'):
            if getattr(args, key) is not None:
                cmd += [f'--{key.replace("_", "-")}', str(getattr(args, key))]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    ref = rows[0]
    print(f'{"size":>6} {"s":>8} {"s/MP":>7} {"ratio":>6} '
          f'{"extra MB":>9} {"ratio":>6} {"inputs MB":>9}')
    for r in rows:
        print(f'{r["size"]:>6} {r["seconds"]:8.2f} {r["s_per_mp"]:7.3f} '
              f'{r["s_per_mp"] / ref["s_per_mp"]:6.2f} {r["extra_mb"]:9.1f} '
              f'{r["extra_mb"] / max(ref["extra_mb"], 1e-6):6.2f} '
              f'{r["inputs_mb"]:9.1f}')
    print('targets: both ratios within 0.80-1.20')


if __name__ == '__main__':
    main()
