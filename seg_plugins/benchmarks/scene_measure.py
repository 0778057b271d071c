"""The measurements of the scene benchmark
(``tools/analysis/benchmark_scene.py``), each run in a process of its own.

Every measurement takes the tool's parsed options (``args``): ``kind`` (a
key of :data:`~seg_plugins.benchmarks.scene_pairs.KINDS`), ``pair`` (JSON of
the pair's paths), ``tile``, ``overlap``, ``batch_size``, ``threads``,
``base_channels``, ``work_dir``, ``gdal_cache_mb``, ``reuse_memory`` and,
by mode, ``warm_pair`` or ``tiles``.
"""
import json
import os.path as osp
import tempfile
import time

import numpy as np

from .scene_pairs import KINDS


def load_model(args):
    """The kind's change U-Net, ``args.base_channels`` wide, random weights,
    on ``args.threads`` threads."""
    import torch

    from seg_plugins.apis import init_change_model
    torch.set_num_threads(args.threads)
    cfg = {'model.backbone.base_channels': args.base_channels,
           'model.decode_head.in_channels': args.base_channels}
    return init_change_model(KINDS[args.kind]['config'], None, 'cpu', cfg)


def measure(args) -> dict:
    """One measurement (``args.mode``: ``scene``, ``bare`` or
    ``infer_change``) in this process, after the model has run one batch
    (allocator, kernels).

    Returns:
        dict: ``seconds``; for ``scene`` also ``tiles``, ``skipped``,
        ``peak_mb``, ``side`` and ``turns``; for ``bare`` ``peak_mb``. A
        peak is the peak RSS above the RSS after the warm-up, in MiB.
    """
    from seg_plugins.apis.change_inference import predict_tiles
    from seg_plugins.utils.malloc import keep_freed_memory
    from seg_plugins.utils.rss import rss_mb
    if args.reuse_memory:  # as tools/infer.py by default; a no-op in the
        keep_freed_memory()  # live-memory runs (their env var wins)
    model = load_model(args)
    kind = KINDS[args.kind]
    rng = np.random.default_rng(0)
    warm = rng.integers(1, 200, (args.tile, args.tile, 2 * kind['bands']),
                        dtype=kind['dtype'])
    predict_tiles(model, [warm] * args.batch_size)  # allocator, kernels
    base = rss_mb()
    if args.mode == 'scene':
        return measure_scene(args, model, base)
    if args.mode == 'bare':
        return measure_bare(args, model, rng, warm, base)
    return measure_infer_change(args, model)


def measure_scene(args, model, base: float) -> dict:
    """``infer_change_scene`` on ``args.pair`` to change and probability
    COGs, after an untimed run on ``args.warm_pair`` if given.

    Args:
        args (argparse.Namespace): the options (module docstring).
        model (nn.Module): the loaded, warmed-up model.
        base (float): RSS after the model's warm-up, MiB; replaced by the
            RSS after the warm pair when there is one.

    Returns:
        dict: ``seconds``, ``tiles`` (run), ``skipped``, ``peak_mb`` (above
        the base), ``side`` (reader and writer CPU time and publishing
        the COGs, over the scene's seconds) and ``turns``.
    """
    from seg_plugins.apis import infer_change_scene
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    out = tempfile.mkdtemp(dir=args.work_dir)
    run = dict(tile=args.tile, overlap=args.overlap,
               batch_size=args.batch_size, gdal_cache_mb=args.gdal_cache_mb)
    if args.warm_pair:
        # GDAL's drivers, the writer and reader threads and their buffers
        # start up once per process, not per scene: like the model, warmed
        # up untimed.
        warm_pair = json.loads(args.warm_pair)
        infer_change_scene(model, warm_pair['a'], warm_pair['b'],
                           osp.join(out, 'warm.tif'),
                           osp.join(out, 'warm_prob.tif'), **run)
        base = rss_mb()
    pair = json.loads(args.pair)
    start = time.perf_counter()
    s = infer_change_scene(model, pair['a'], pair['b'],
                           osp.join(out, 'change.tif'),
                           osp.join(out, 'prob.tif'), **run)
    seconds = time.perf_counter() - start
    side = (s['read_cpu_seconds'] + s['write_cpu_seconds'] +
            s['commit_seconds'])
    return dict(seconds=seconds, tiles=s['tiles_run'],
                skipped=s['tiles_skipped'], peak_mb=peak_rss_mb() - base,
                side=side / seconds, turns=s['took_turns'])


def measure_bare(args, model, rng: np.random.Generator, warm: np.ndarray,
                 base: float) -> dict:
    """The model alone (``predict_tiles``) over ``args.tiles`` random tiles
    already in memory, ``args.batch_size`` at a time.

    Args:
        args (argparse.Namespace): the options (module docstring).
        model (nn.Module): the loaded, warmed-up model.
        rng (np.random.Generator): draws the tiles.
        warm (np.ndarray): the warm-up tile, (tile, tile, 2 * bands): its
            shape and dtype are the tiles'.
        base (float): RSS after the model's warm-up, MiB.

    Returns:
        dict: ``seconds`` and ``peak_mb`` (above the base).
    """
    from seg_plugins.apis.change_inference import predict_tiles
    from seg_plugins.utils.rss import peak_rss_mb
    tiles = [rng.integers(1, 200, warm.shape, dtype=warm.dtype)
             for _ in range(args.batch_size)]
    start = time.perf_counter()
    for i in range(0, args.tiles, args.batch_size):
        predict_tiles(model, tiles[:min(args.batch_size, args.tiles - i)])
    return dict(seconds=time.perf_counter() - start,
                peak_mb=peak_rss_mb() - base)


def measure_infer_change(args, model) -> dict:
    """The in-memory ``infer_change`` on ``args.pair``, its arrays read
    whole beforehand (reading not timed).

    Returns:
        dict: ``seconds``.
    """
    import rasterio

    from seg_plugins.apis import infer_change
    from seg_plugins.geo import to_loader_order
    pair = json.loads(args.pair)
    imgs = []
    for path in (pair['a'], pair['b']):
        with rasterio.open(path) as src:
            imgs.append(to_loader_order(src.read()))
    start = time.perf_counter()
    infer_change(model, imgs[0], imgs[1], args.tile, args.overlap,
                 args.batch_size)
    return dict(seconds=time.perf_counter() - start)
