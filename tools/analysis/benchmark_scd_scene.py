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
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

CONFIGS = dict(scd='configs/scd_second_unet.py',
               binary='configs/changedet_unet.py')


def child(args) -> dict:
    """The scene of ``args.pair`` in this process: seconds and peak MB."""
    import numpy as np
    import torch

    from seg_plugins.apis import infer_change_scene, init_change_model
    from seg_plugins.apis.change_inference import predict_tiles
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c, scd = args.base_channels, args.model == 'scd'
    model = init_change_model(CONFIGS[args.model], None, 'cpu', dict(
        {'model.backbone.base_channels': c,
         'model.decode_head.in_channels': [c] if scd else c},
        **({'model.decode_head.channels': 2 * c} if scd else {})))
    warm = np.random.default_rng(0).integers(
        1, 200, (args.tile, args.tile, 6), dtype=np.uint8)
    predict_tiles(model, [warm] * args.batch_size)
    if scd:
        # The random change logit centred on a tile's median: about half
        # the pixels change, so the class maps and the table have work.
        head, logits = model.decode_head, []
        hook = head.conv_change.register_forward_hook(
            lambda m, i, o: logits.append(o))
        predict_tiles(model, [warm])
        hook.remove()
        with torch.no_grad():
            head.conv_change.bias -= logits[0].median()
    out = tempfile.mkdtemp(dir=args.work_dir)
    run = dict(tile=args.tile, overlap=args.overlap,
               batch_size=args.batch_size)
    pairs = json.loads(args.pair)
    infer_change_scene(model, pairs['warm']['a'], pairs['warm']['b'],
                       osp.join(out, 'warm.tif'), **run)
    base = rss_mb()
    start = time.perf_counter()
    s = infer_change_scene(model, pairs['scene']['a'], pairs['scene']['b'],
                           osp.join(out, 'change.tif'), **run)
    pairs = 0
    if s.area_table:
        with open(s.area_table) as f:
            pairs = sum(1 for _ in f) - 1
    return dict(seconds=time.perf_counter() - start,
                peak_mb=peak_rss_mb() - base, pairs=pairs)


def scene_pair(work_dir: str, size: int) -> dict:
    """The synthetic 3-band pair of ``size`` in ``work_dir``, written
    unless an earlier run left it there."""
    from seg_plugins.utils.synthetic_scene import scene_paths, write_scene_pair
    out = osp.join(work_dir, f'rgb8_{size}')
    paths = scene_paths(out)
    if all(osp.exists(p) for p in paths.values()):
        return paths
    return write_scene_pair(out, size, seed=size)


def main():
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
        print(json.dumps(child(args)))
        return
    warm = scene_pair(args.work_dir, 512)
    models = ['scd', 'binary'] if args.baseline else ['scd']
    print(f'{"size":>6} {"model":>7} {"seconds":>8} {"peak MB":>8} '
          f'{"x first":>8} {"x binary":>9} {"pairs":>6}')
    first = None
    for size in args.sizes:
        pair = json.dumps(dict(warm=warm,
                               scene=scene_pair(args.work_dir, size)))
        rows = {m: run_child(args, pair, m) for m in models}
        first = first or rows['scd']['peak_mb']
        for m, row in rows.items():
            vs = (f'{rows["scd"]["peak_mb"] / row["peak_mb"]:>9.2f}'
                  if m == 'binary' else ' ' * 9)
            print(f'{size:>6} {m:>7} {row["seconds"]:>8.1f} '
                  f'{row["peak_mb"]:>8.1f} {row["peak_mb"] / first:>8.2f} '
                  f'{vs} {row["pairs"]:>6}', flush=True)


def run_child(args, pair: str, model: str) -> dict:
    """:func:`child` in a new process, glibc's mmap threshold fixed."""
    cmd = [sys.executable, __file__, '--pair', pair, '--model', model]
    for key in ('work_dir', 'tile', 'overlap', 'batch_size', 'threads',
                'base_channels'):
        cmd += [f'--{key.replace("_", "-")}', str(getattr(args, key))]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f'{model} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])

if __name__ == '__main__':
    main()
