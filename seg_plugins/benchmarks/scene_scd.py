"""The measurement of the semantic-change scene benchmark
(``tools/analysis/benchmark_scd_scene.py``): one scene with an SCD model,
or the binary change U-Net as its baseline, in this process."""
import json
import os.path as osp
import tempfile
import time

# model: the config of the SCD model and of its binary baseline.
CONFIGS = dict(scd='configs/scd_second_unet.py',
               binary='configs/changedet_unet.py')


def load_scd_model(model: str, base_channels: int, threads: int):
    """``CONFIGS[model]`` ``base_channels`` wide, random weights (seeded),
    on ``threads`` threads.

    Args:
        model (str): ``scd`` or ``binary``.
        base_channels (int): the U-Net's width.
        threads (int): torch's threads.

    Returns:
        nn.Module: the model, in eval mode.
    """
    import torch

    from seg_plugins.apis import init_change_model
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c, scd = base_channels, model == 'scd'
    return init_change_model(CONFIGS[model], None, 'cpu', dict(
        {'model.backbone.base_channels': c,
         'model.decode_head.in_channels': [c] if scd else c},
        **({'model.decode_head.channels': 2 * c} if scd else {})))


def centre_change_logit(model, tile) -> None:
    """Shift the SCD head's random change logit to centre on ``tile``'s
    median: about half the pixels change, so the class maps and the area
    table have work.

    Args:
        model (nn.Module): an SCD model (``decode_head.conv_change``).
        tile (np.ndarray): a warm-up tile, (H, W, 6).
    """
    import torch

    from seg_plugins.apis.change_inference import predict_tiles
    head, logits = model.decode_head, []
    hook = head.conv_change.register_forward_hook(
        lambda m, i, o: logits.append(o))
    predict_tiles(model, [tile])
    hook.remove()
    with torch.no_grad():
        head.conv_change.bias -= logits[0].median()


def measure_scd_scene(args) -> dict:
    """The scene of ``args.pair`` in this process: the model
    (``args.model``) runs one batch, then the warm-up pair untimed, then
    the scene.

    Args:
        args (argparse.Namespace): ``pair`` (JSON: ``warm`` and ``scene``
            pairs' paths), ``model``, ``base_channels``, ``threads``,
            ``tile``, ``overlap``, ``batch_size``, ``work_dir``.

    Returns:
        dict: ``seconds``, ``peak_mb`` (peak RSS above the RSS after the
        warm-up pair, MiB) and ``pairs`` (rows of the area table; 0 for
        the binary model).
    """
    import numpy as np

    from seg_plugins.apis import infer_change_scene
    from seg_plugins.apis.change_inference import predict_tiles
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    model = load_scd_model(args.model, args.base_channels, args.threads)
    warm = np.random.default_rng(0).integers(
        1, 200, (args.tile, args.tile, 6), dtype=np.uint8)
    predict_tiles(model, [warm] * args.batch_size)
    if args.model == 'scd':
        centre_change_logit(model, warm)
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
    rows = 0
    if s.area_table:
        with open(s.area_table) as f:
            rows = sum(1 for _ in f) - 1
    return dict(seconds=time.perf_counter() - start,
                peak_mb=peak_rss_mb() - base, pairs=rows)
