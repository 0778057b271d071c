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
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

KINDS = dict(rgb8=dict(bands=3, dtype='uint8',
                       config='configs/changedet_unet.py'),
             nir16=dict(bands=4, dtype='uint16',
                        config='configs/changedet_unet_4band_uint16.py'))


def load_model(args):
    import torch

    from seg_plugins.apis import init_change_model
    torch.set_num_threads(args.threads)
    cfg = {'model.backbone.base_channels': args.base_channels,
           'model.decode_head.in_channels': args.base_channels}
    return init_change_model(KINDS[args.kind]['config'], None, 'cpu', cfg)


def child(args) -> dict:
    """One measurement (``args.mode``) in this process."""
    from seg_plugins.apis import infer_change, infer_change_scene
    from seg_plugins.apis.change_inference import predict_tiles
    from seg_plugins.utils.malloc import keep_freed_memory
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    if args.reuse_memory:  # as tools/infer.py by default; a no-op in the
        keep_freed_memory()  # live-memory runs (their env var wins)
    model = load_model(args)
    pair = json.loads(args.pair)
    rng = np.random.default_rng(0)
    kind = KINDS[args.kind]
    warm = rng.integers(1, 200, (args.tile, args.tile, 2 * kind['bands']),
                        dtype=kind['dtype'])
    predict_tiles(model, [warm] * args.batch_size)  # allocator, kernels
    base = rss_mb()
    if args.mode == 'scene':
        out = tempfile.mkdtemp(dir=args.work_dir)
        if args.warm_pair:
            # GDAL's drivers, the writer and reader threads and their
            # buffers start up once per process, not per scene: like the
            # model, warmed up untimed.
            warm_pair = json.loads(args.warm_pair)
            infer_change_scene(model, warm_pair['a'], warm_pair['b'],
                               osp.join(out, 'warm.tif'),
                               osp.join(out, 'warm_prob.tif'),
                               tile=args.tile, overlap=args.overlap,
                               batch_size=args.batch_size,
                               gdal_cache_mb=args.gdal_cache_mb)
            base = rss_mb()
        start = time.perf_counter()
        s = infer_change_scene(model, pair['a'], pair['b'],
                               osp.join(out, 'change.tif'),
                               osp.join(out, 'prob.tif'), tile=args.tile,
                               overlap=args.overlap,
                               batch_size=args.batch_size,
                               gdal_cache_mb=args.gdal_cache_mb)
        seconds = time.perf_counter() - start
        side = (s['read_cpu_seconds'] + s['write_cpu_seconds'] +
                s['commit_seconds'])
        return dict(seconds=seconds, tiles=s['tiles_run'],
                    skipped=s['tiles_skipped'], peak_mb=peak_rss_mb() - base,
                    side=side / seconds, turns=s['took_turns'])
    if args.mode == 'bare':
        tiles = [rng.integers(1, 200, warm.shape, dtype=kind['dtype'])
                 for _ in range(args.batch_size)]
        start = time.perf_counter()
        for i in range(0, args.tiles, args.batch_size):
            predict_tiles(model, tiles[:min(args.batch_size,
                                            args.tiles - i)])
        return dict(seconds=time.perf_counter() - start,
                    peak_mb=peak_rss_mb() - base)
    import rasterio

    from seg_plugins.geo import to_loader_order
    imgs = []
    for path in (pair['a'], pair['b']):
        with rasterio.open(path) as src:
            imgs.append(to_loader_order(src.read()))
    start = time.perf_counter()
    infer_change(model, imgs[0], imgs[1], args.tile, args.overlap,
                 args.batch_size)
    return dict(seconds=time.perf_counter() - start)


def run_child(args, kind, pair, mode, live_memory=False, **extra) -> dict:
    """``child`` in a new process; ``live_memory``: with glibc's mmap
    threshold fixed (see the module docstring; halves the model's speed, so
    only for peaks)."""
    cmd = [sys.executable, __file__, '--mode', mode, '--kind', kind,
           '--pair', json.dumps(pair)]
    for key in ('tile', 'overlap', 'batch_size', 'threads', 'base_channels',
                'work_dir', 'gdal_cache_mb'):
        cmd += [f'--{key.replace("_", "-")}', str(getattr(args, key))]
    if args.reuse_memory:
        cmd.append('--reuse-memory')
    for key, value in extra.items():
        cmd += [f'--{key}', str(value)]
    env = dict(os.environ)
    if live_memory:
        env['MALLOC_MMAP_THRESHOLD_'] = str(128 * 1024)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f'{mode} on {pair["a"]} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
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
        print(json.dumps(child(args)))
        return
    args.work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_scene_')
    print(f'{"kind":>6} {"size":>5} {"tiles":>6} {"skip":>5} '
          f'{"scene MP/s":>10} {"bare MP/s":>9} {"ratio":>6} '
          f'{"peak MB":>8} {"mem ratio":>9} {"model MB":>8} '
          f'{"vs infer_change":>15} {"side":>5} {"turns":>5} ratios')
    rows = []
    for kind in args.kinds:
        first_peak = model_mb = None
        warm = json.dumps(scene_pair(args.work_dir, kind, 512))
        for size in args.sizes:
            pair = scene_pair(args.work_dir, kind, size)
            scenes, bares = [], []
            for i in range(args.repeat):
                # Scene first, then bare first (the first pair tells the
                # bare runs the tiles to run): a drift of the machine's
                # speed within a pair then cancels out of the median.
                order = ('scene', 'bare') if i % 2 == 0 else ('bare', 'scene')
                for mode in order:
                    if mode == 'scene':
                        scenes.append(run_child(args, kind, pair, 'scene',
                                                **{'warm-pair': warm}))
                    else:
                        bares.append(run_child(args, kind, pair, 'bare',
                                               tiles=scenes[0]['tiles']))
            scene = scenes[0]
            peak = run_child(args, kind, pair, 'scene',
                             live_memory=True)['peak_mb']
            model_mb = model_mb or run_child(
                args, kind, pair, 'bare', live_memory=True,
                tiles=scene['tiles'])['peak_mb']
            scene_s = statistics.median(s['seconds'] for s in scenes)
            bare_s = statistics.median(b['seconds'] for b in bares)
            # Per scene/bare pair, run back to back: the machine's speed
            # drifts over minutes by more than the gap measured.
            ratios = sorted(b['seconds'] / s['seconds']
                            for s, b in zip(scenes, bares))
            mp = size * size / 1e6
            # Bare: MP/s of the pixels the scene ran through the model.
            run_mp = mp * scene['tiles'] / (scene['tiles'] +
                                            scene['skipped'])
            first_peak = first_peak or peak
            vs = ''
            if size == args.memory_size:
                mem = run_child(args, kind, pair, 'infer_change')
                vs = f'{mem["seconds"] / scene_s:.2f}x'
            print(f'{kind:>6} {size:>5} {scene["tiles"]:>6} '
                  f'{scene["skipped"]:>5} {mp / scene_s:10.3f} '
                  f'{run_mp / bare_s:9.3f} {statistics.median(ratios):6.2f} '
                  f'{peak:8.1f} {peak / max(first_peak, 1e-6):9.2f} '
                  f'{model_mb:8.1f} {vs:>15} '
                  f'{statistics.median(s["side"] for s in scenes):5.2f} '
                  f'{"yes" if scene["turns"] else "no":>5} '
                  f'{ratios[0]:.2f}-{ratios[-1]:.2f}', flush=True)
            rows.append(dict(kind=kind, size=size, scene=mp / scene_s,
                             bare=run_mp / bare_s, peak=peak))
    print('ratio: bare forward time over the same tiles / scene time, '
          'median over the scene/bare pairs (ratios: their range; target '
          '>= 0.90 where a core is left to the pipeline, as on a GPU: '
          '--threads 1 here; with every core taken, side work comes off '
          'the model); mem ratio: scene peak above baseline vs the '
          'smallest size (target 0.90-1.10); model MB: the bare forward\'s '
          "own peak; vs infer_change: its time / the scene's (target >= "
          '1.0); side: CPU time of the reader (with its reading threads) '
          'and the writer plus the '
          "wall time of publishing the COGs, over the scene's time; turns: "
          'whether reading and writing took turns with the model '
          '(infer_change_scene\'s take_turns, on by default when the '
          "model's threads take every core)")
    if args.plot:
        plot_rows(rows, args.plot, args.threads)
        print(f'plot: {args.plot}')


def plot_rows(rows: list, path: str, threads: int) -> None:
    """Scene and bare-forward MP/s, and the scene's peak memory, against
    the scene size (one line per kind), as a PNG at ``path``."""
    import matplotlib
    matplotlib.use('Agg')  # no display needed
    import matplotlib.pyplot as plt
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(10, 4))
    for kind in dict.fromkeys(r['kind'] for r in rows):
        mine = [r for r in rows if r['kind'] == kind]
        sizes = [r['size'] for r in mine]
        line, = speed.plot(sizes, [r['scene'] for r in mine], 'o-',
                           label=f'{kind}: scene')
        speed.plot(sizes, [r['bare'] for r in mine], 's--',
                   color=line.get_color(), label=f'{kind}: bare forward')
        memory.plot(sizes, [r['peak'] for r in mine], 'o-', label=kind)
    for ax, ylabel in ((speed, 'megapixels per second'),
                       (memory, 'peak memory above baseline, MB')):
        ax.set_xscale('log', base=2)
        ticks = sorted({r['size'] for r in rows})
        ax.set_xticks(ticks, [f'{s}²' for s in ticks])
        ax.set_xlabel('scene size, pixels')
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
        ax.grid(alpha=0.3)
        ax.legend()
    speed.set_title(f'throughput (--threads {threads})')
    memory.set_title('peak memory of the scene run')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def scene_pair(work_dir: str, kind: str, size: int) -> dict:
    """The synthetic pair of ``kind`` and ``size`` in ``work_dir``, written
    unless an earlier run left it there."""
    from seg_plugins.utils.synthetic_scene import scene_paths, write_scene_pair
    out = osp.join(work_dir, f'{kind}_{size}')
    paths = scene_paths(out)
    if all(osp.exists(p) for p in paths.values()):
        return paths
    spec = KINDS[kind]
    return write_scene_pair(out, size, bands=spec['bands'],
                            dtype=spec['dtype'], seed=size)


if __name__ == '__main__':
    main()
