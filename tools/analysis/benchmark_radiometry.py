r"""Does a change model trained on one scene pair hold on a new acquisition?

Synthetic 4-band uint16 scene pairs (``seg_plugins/utils/synthetic_scene.py``,
40 DN per level) whose date B is date A under a per-band gain and offset:
the training pair and the same-draw test pair share one draw; each
held-out test pair (same content as the same-draw one) draws its own, gain
1 +- 20 % and offset +- 10 % of the band's mean, per band. The training
pair goes through ``scenes2chips.py`` (its ``band_stats.json``: pooled
mean/std for the preprocessor, per-scene statistics for
``RadiometricNormalize``), a model is trained from
``configs/changedet_unet_4band_uint16.py`` by mmengine's runner under each
recipe, and every test scene goes through ``infer_change_scene`` (with
``radiometric=`` the recipe's normalisation, statistics per scene):

    recipe            training augmentation   normalisation
    none              -                       -                 (before)
    aug               RandomRadiometric       -                 (default)
    standardize       -                       standardize
    match             -                       match
    aug+standardize   RandomRadiometric       standardize
    aug+match         RandomRadiometric       match

Prints, per recipe, the change F1 (%) on the same-draw pair and on the
held-out pairs (mean and worst) and the gap between them. Target: the
default recipe's held-out mean within 3 points of its same-draw F1.

    python tools/analysis/benchmark_radiometry.py [--iters 300] \
        [--draws 4] [--recipes none aug ...]
"""
import argparse
import copy
import json
import os.path as osp
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

CONFIG = 'configs/changedet_unet_4band_uint16.py'
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECIPES = {
    'none': (False, 'none'),
    'aug': (True, 'none'),
    'standardize': (False, 'standardize'),
    'match': (False, 'match'),
    'aug+standardize': (True, 'standardize'),
    'aug+match': (True, 'match'),
}
DEFAULT_RECIPE = 'aug'  # what the 4-band config does
GAIN, OFFSET = 0.20, 0.10  # held-out range: gain 1 +- 20 %, offset +- 10 %
BANDS = 4


def band_means(seed: int, bands: int = BANDS) -> np.ndarray:
    """(bands, ) mean of date A in uint8 levels over a 256^2 window."""
    from seg_plugins.utils.synthetic_scene import render_window
    img_a, _, _ = render_window(seed, 0, 0, 256, 256, np.ones(bands),
                                np.zeros(bands))
    return img_a.reshape(-1, bands).mean(0)


def draw_radiometry(rng: np.random.Generator,
                    means: np.ndarray) -> List[List[float]]:
    """One acquisition of B: per-band gain 1 +- GAIN and offset +- OFFSET
    of the band's mean (uint8 levels)."""
    gain = 1 + rng.uniform(-GAIN, GAIN, len(means))
    offset = rng.uniform(-OFFSET, OFFSET, len(means)) * means
    return [gain.round(4).tolist(), offset.round(3).tolist()]


def write_data(root: str, draws: int = 4, train_size: int = 640,
               test_size: int = 256, chip: int = 64, seed: int = 0,
               radiometry: Optional[Dict[str, list]] = None) -> dict:
    """The training chips and the test scenes.

    Args:
        radiometry (dict, optional): B's (gain, offset) per test pair,
            offsets as fractions of the band means: 'same-draw' (also the
            training pair's) and held-out ones; None: drawn (``draws``
            held-out pairs).

    Returns:
        dict: ``chips`` (folder), ``stats`` (its band_stats.json),
        ``tests``: [(name, paths)], first the same-draw pair, then the
        held-out ones; ``radiometry``: {name: (gain, offset)}.
    """
    from seg_plugins.geo.chips import ChipOptions
    from seg_plugins.geo.chips_dataset import write_chip_dataset
    from seg_plugins.utils.synthetic_scene import write_scene_pair
    rng = np.random.default_rng([seed, 32])
    train_seed, test_seed = seed * 2 + 1, seed * 2 + 2
    means = band_means(train_seed)
    if radiometry is not None:
        radiometry = {name: [list(gain), (np.asarray(offset) * means).tolist()]
                      for name, (gain, offset) in radiometry.items()}
    else:
        radiometry = {'same-draw': draw_radiometry(rng, means)}
        radiometry.update({f'held-out{i + 1}': draw_radiometry(rng, means)
                           for i in range(draws)})
    train_draw = radiometry['same-draw']
    scene = write_scene_pair(osp.join(root, 'train'), train_size, BANDS,
                             'uint16', seed=train_seed,
                             b_radiometry=train_draw, prefix='train')
    chips = osp.join(root, 'chips')
    report = write_chip_dataset([(scene['a'], scene['b'], scene['label'])],
                                chips, ChipOptions(size=chip),
                                val_fraction=0)
    print('\n'.join(report.lines()))
    tests = [(name, write_scene_pair(osp.join(root, name), test_size, BANDS,
                                     'uint16', seed=test_seed,
                                     b_radiometry=draw, prefix=name))
             for name, draw in radiometry.items()]
    return dict(chips=chips, stats=osp.join(chips, 'band_stats.json'),
                tests=tests, radiometry=radiometry)


def recipe_config(recipe: str, data: dict, work_dir: str, iters: int = 300,
                  base_channels: int = 8, num_stages: int = 4,
                  batch_size: int = 8, lr: float = 5e-3, seed: int = 0):
    """The 4-band config, shrunk to a CPU run of ``iters`` iterations on
    ``data``'s chips, with ``recipe``'s augmentation and normalisation."""
    from mmengine.config import Config
    augment, method = RECIPES[recipe]
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    with open(data['stats']) as f:
        stats = json.load(f)
    cfg.model.data_preprocessor.mean = stats['mean']
    cfg.model.data_preprocessor.std = stats['std']
    cfg.model.backbone.update(base_channels=base_channels,
                              num_stages=num_stages, dropout_ratio=0.0)
    cfg.model.decode_head.in_channels = base_channels
    pipeline = [
        t for t in copy.deepcopy(cfg.train_dataloader.dataset.pipeline)
        if augment or t['type'] != 'RandomRadiometric'
    ]
    if method != 'none':
        at = [t['type'] for t in pipeline].index('ConcatCDInput')
        pipeline.insert(at, dict(type='RadiometricNormalize', method=method,
                                 mean=stats['mean'], std=stats['std'],
                                 stats_file=data['stats']))
    cfg.train_dataloader.update(
        batch_size=batch_size, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=data['chips'],
                                        pipeline=pipeline)
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=10**9)
    cfg.optim_wrapper.optimizer.lr = lr
    warmup = min(max(iters // 20, 5), iters - 1)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
             end=warmup),
        dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False,
             begin=warmup, end=iters)
    ]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=10**9, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**9)
    cfg.default_hooks.pop('visualization', None)
    cfg.randomness = dict(seed=seed)
    cfg.log_level = 'WARNING'
    cfg.work_dir = work_dir
    return cfg, method


def train(cfg):
    """Train with mmengine's runner; the model, in eval mode, with its
    config."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    model = runner.train()
    model.cfg = cfg
    return model.eval()


def scene_f1(model, paths: dict, out: str, method: str) -> float:
    """Change F1 (%) of ``infer_change_scene`` on a scene pair against its
    label, over the pixels valid in both dates."""
    import rasterio

    from seg_plugins.apis import infer_change_scene
    infer_change_scene(model, paths['a'], paths['b'], out, overwrite=True,
                       checkpoint_seconds=None, radiometric=method)
    with rasterio.open(out) as pred, rasterio.open(paths['label']) as ref:
        pred, ref = pred.read(1), ref.read(1)
    valid = ref != 255
    tp = np.count_nonzero((pred == 1) & (ref == 1) & valid)
    fp = np.count_nonzero((pred == 1) & (ref == 0) & valid)
    fn = np.count_nonzero((pred != 1) & (ref == 1) & valid)
    return 100.0 * 2 * tp / max(2 * tp + fp + fn, 1)


def evaluate(recipe: str, data: dict, root: str, **train_kwargs
             ) -> Dict[str, float]:
    """Train under ``recipe`` and score every test scene: {name: F1}."""
    import torch
    torch.manual_seed(train_kwargs.get('seed', 0))
    work = osp.join(root, 'work', recipe.replace('+', '_'))
    cfg, method = recipe_config(recipe, data, work, **train_kwargs)
    model = train(cfg)
    return {name: scene_f1(model, paths, osp.join(work, f'{name}.tif'),
                           method)
            for name, paths in data['tests']}


def summary(scores: Dict[str, float]) -> dict:
    """Same-draw F1, held-out mean and worst, and the gap (same-draw minus
    held-out mean)."""
    held = [v for k, v in scores.items() if k != 'same-draw']
    mean = float(np.mean(held))
    return dict(same=scores['same-draw'], held=mean, worst=min(held),
                gap=scores['same-draw'] - mean)


def main(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--recipes', nargs='+', default=list(RECIPES),
                        choices=list(RECIPES))
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--draws', type=int, default=4,
                        help='held-out acquisitions')
    parser.add_argument('--train-size', type=int, default=640)
    parser.add_argument('--test-size', type=int, default=256)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (1: steady on a shared machine, '
                        'where more threads than free cores spin)')
    args = parser.parse_args(argv)
    import torch

    import seg_plugins  # noqa: F401
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        data = write_data(root, args.draws, args.train_size, args.test_size,
                          seed=args.seed)
        print('B radiometry (gain, offset in uint8 levels) per test pair:')
        for name, (gain, offset) in data['radiometry'].items():
            print(f'  {name:10s} gain {gain}  offset {offset}')
        rows = []
        for recipe in args.recipes:
            start = time.perf_counter()
            row = summary(evaluate(recipe, data, root, iters=args.iters,
                                   seed=args.seed))
            rows.append((recipe, row))
            print(f'{recipe}: {time.perf_counter() - start:.0f} s',
                  flush=True)
    print(f'\n| recipe | same-draw F1 | held-out F1 (mean of '
          f'{args.draws}) | worst | gap |')
    print('|---|---|---|---|---|')
    for recipe, r in rows:
        mark = ' (default)' if recipe == DEFAULT_RECIPE else ''
        print(f'| {recipe}{mark} | {r["same"]:.2f} | {r["held"]:.2f} | '
              f'{r["worst"]:.2f} | {r["gap"]:+.2f} |')
    for recipe, r in rows:
        if recipe == DEFAULT_RECIPE:
            ok = abs(r['gap']) <= 3
            print(f'default recipe: held-out within {abs(r["gap"]):.2f} '
                  f'points of same-draw (target <= 3): '
                  f'{"met" if ok else "NOT met"}')


if __name__ == '__main__':
    main()
