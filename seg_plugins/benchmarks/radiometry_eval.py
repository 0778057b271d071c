"""The radiometry benchmark's runs: train under a recipe with mmengine's
runner, score every test scene through ``infer_change_scene``."""
import os.path as osp
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .radiometry_recipes import recipe_config


def train(cfg):
    """Train with mmengine's runner.

    Args:
        cfg (mmengine.Config): the training config.

    Returns:
        torch.nn.Module: the trained model, in eval mode, with ``cfg`` as
        its ``cfg`` (as scene inference wants it).
    """
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    model = runner.train()
    model.cfg = cfg
    return model.eval()


def scene_f1(model, paths: dict, out: str, method: str) -> float:
    """Change F1 of ``infer_change_scene`` on a scene pair against its label.

    Args:
        model (torch.nn.Module): the change model.
        paths (dict): the pair's GeoTIFFs: ``a``, ``b`` and ``label``.
        out (str): where the change map is written.
        method (str): ``radiometric=`` of the scene inference.

    Returns:
        float: F1 (%) over the pixels valid in both dates (label not 255).
    """
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


def evaluate(recipe: str, data: dict, root: str,
             **train_kwargs) -> Dict[str, float]:
    """Train under ``recipe`` and score every test scene.

    Args:
        recipe (str): a key of
            :data:`~seg_plugins.benchmarks.radiometry_recipes.RECIPES`.
        data (dict): what
            :func:`~seg_plugins.benchmarks.radiometry_data.write_data`
            returns.
        root (str): the folder under which the run writes (``work/``).
        **train_kwargs: passed to
            :func:`~seg_plugins.benchmarks.radiometry_recipes.recipe_config`.

    Returns:
        dict[str, float]: F1 (%) per test pair name.
    """
    import torch
    torch.manual_seed(train_kwargs.get('seed', 0))
    work = osp.join(root, 'work', recipe.replace('+', '_'))
    cfg, method = recipe_config(recipe, data, work, **train_kwargs)
    model = train(cfg)
    return {name: scene_f1(model, paths, osp.join(work, f'{name}.tif'),
                           method)
            for name, paths in data['tests']}


def summary(scores: Dict[str, float]) -> dict:
    """What the table shows of one recipe's scores.

    Args:
        scores (dict[str, float]): F1 per test pair, as :func:`evaluate`
            returns them.

    Returns:
        dict: ``same`` (the same-draw F1), ``held`` and ``worst`` (mean and
        lowest F1 of the held-out pairs) and ``gap`` (same minus held).
    """
    held = [v for k, v in scores.items() if k != 'same-draw']
    mean = float(np.mean(held))
    return dict(same=scores['same-draw'], held=mean, worst=min(held),
                gap=scores['same-draw'] - mean)


def run_recipes(recipes: Sequence[str], data: dict, root: str,
                **train_kwargs) -> List[Tuple[str, dict]]:
    """:func:`evaluate` and :func:`summary` of each recipe in turn, printing
    how long each took.

    Args:
        recipes (Sequence[str]): the recipes to run.
        data (dict): the benchmark's data (see :func:`evaluate`).
        root (str): the folder under which the runs write.
        **train_kwargs: passed to :func:`evaluate`.

    Returns:
        list[tuple[str, dict]]: (recipe, its :func:`summary`) per recipe.
    """
    rows = []
    for recipe in recipes:
        start = time.perf_counter()
        rows.append((recipe, summary(evaluate(recipe, data, root,
                                              **train_kwargs))))
        print(f'{recipe}: {time.perf_counter() - start:.0f} s', flush=True)
    return rows
