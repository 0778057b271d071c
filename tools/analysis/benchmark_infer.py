r"""Time and peak memory of tiled change inference for growing pair sizes.

Each size runs in its own process (peak RSS is per process). Memory is
reported above the input and output arrays: peak RSS minus the RSS with the
model loaded, minus the two input images and the two output maps.

    python tools/analysis/benchmark_infer.py \
        --config configs/changedet_unet.py [--checkpoint CKPT] \
        [--sizes 1024 2048 4096] [--tile 256]

Targets: time per megapixel and extra memory each flat within +-20% across
sizes (ratios printed against their mean over the sizes).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def measure(args) -> dict:
    import torch

    from seg_plugins.apis import infer_change, init_change_model
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    torch.set_num_threads(args.threads)
    model = init_change_model(args.config, args.checkpoint, args.device)
    base = rss_mb()
    rng = np.random.default_rng(0)
    size = args.size
    img_a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    img_b = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    infer_change(model, img_a[:args.tile, :args.tile],
                 img_b[:args.tile, :args.tile], args.tile, args.overlap,
                 args.batch_size)  # warm-up: allocator and kernels
    seconds = float('inf')
    for _ in range(args.repeat):
        start = time.perf_counter()
        infer_change(model, img_a, img_b, args.tile, args.overlap,
                     args.batch_size)
        seconds = min(seconds, time.perf_counter() - start)
    peak = peak_rss_mb()
    arrays = (2 * img_a.nbytes + 2 * size * size) / 2**20  # in + out uint8
    return dict(size=size, seconds=seconds,
                s_per_mp=seconds / (size * size / 1e6),
                extra_mb=peak - base - arrays,
                inputs_mb=2 * img_a.nbytes / 2**20)


def run_child(cmd, env) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default='configs/changedet_unet.py')
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[1024, 2048, 4096])
    parser.add_argument('--size', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3,
                        help='timed runs per size; the fastest counts')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    if args.size:  # child process
        print(json.dumps(measure(args)))
        return
    rows = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, '--size', str(size)]
        for key in ('config', 'checkpoint', 'tile', 'overlap', 'batch_size',
                    'threads', 'repeat', 'device'):
            if getattr(args, key) is not None:
                cmd += [f'--{key.replace("_", "-")}', str(getattr(args, key))]
        timed = run_child(cmd, os.environ)
        # Memory in a second process with a fixed mmap threshold: freed
        # activations go back to the OS, so peak RSS tracks live memory
        # rather than glibc's heap growth (but allocation is slower, hence
        # the separate timing run).
        mem = run_child(cmd + ['--repeat', '1'],
                        dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536'))
        rows.append(dict(timed, extra_mb=mem['extra_mb']))
    # Ratios against the mean over sizes: flat means every size within
    # +-20% of it.
    ref = {k: np.mean([r[k] for r in rows]) for k in ('s_per_mp', 'extra_mb')}
    print(f'{"size":>6} {"s":>8} {"s/MP":>7} {"ratio":>6} '
          f'{"extra MB":>9} {"ratio":>6} {"inputs MB":>9}')
    for r in rows:
        print(f'{r["size"]:>6} {r["seconds"]:8.2f} {r["s_per_mp"]:7.3f} '
              f'{r["s_per_mp"] / ref["s_per_mp"]:6.2f} {r["extra_mb"]:9.1f} '
              f'{r["extra_mb"] / max(ref["extra_mb"], 1e-6):6.2f} '
              f'{r["inputs_mb"]:9.1f}')
    print('ratios against the mean over sizes; targets: within 0.80-1.20')


if __name__ == '__main__':
    main()
