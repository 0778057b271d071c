"""The runner's overhead: mmengine's runner against the bare PyTorch loop
(:mod:`.training_bare`) on the same model, data and iterations."""
from typing import List, Tuple

import torch

from .training_bare import bare_time
from .training_runner import runner_time, train_only_config

TARGET = 1.10  # runner time per iteration over the bare loop's


def compare_overhead(config: str, data_root: str, batch_size: int,
                     iters: int, warmup: int,
                     work_dir: str) -> Tuple[float, float]:
    """Time both loops on ``config``'s model.

    The runner trains first; the bare loop goes on training its model. The
    runner's pipeline is cut to loading and packing, as the bare loop has
    no augmentation.

    Args:
        config (str): a segmentation config (image and label PNGs).
        data_root (str): the training set's folder.
        batch_size (int): samples per batch.
        iters (int): the timed iterations.
        warmup (int): the untimed iterations before them.
        work_dir (str): the runner's work folder.

    Returns:
        tuple[float, float]: seconds per iteration of the runner and of
        the bare loop.
    """
    cfg = train_only_config(config, data_root, batch_size, work_dir,
                            pipeline=[dict(type='LoadImageFromFile'),
                                      dict(type='LoadAnnotations'),
                                      dict(type='PackSegInputs')])
    torch.manual_seed(0)
    t_runner, model = runner_time(cfg, warmup, iters)
    return t_runner, bare_time(cfg, model, warmup, iters)


def overhead_lines(t_runner: float, t_bare: float) -> List[str]:
    """Iterations/s of both loops and their ratio against :data:`TARGET`.

    Args:
        t_runner (float): the runner's seconds per iteration.
        t_bare (float): the bare loop's seconds per iteration.

    Returns:
        list[str]: three lines.
    """
    return [
        f'runner: {1 / t_runner:.2f} it/s  ({t_runner * 1e3:.1f} ms/iter)',
        f'bare:   {1 / t_bare:.2f} it/s  ({t_bare * 1e3:.1f} ms/iter)',
        f'ratio runner/bare time per iteration: {t_runner / t_bare:.3f} '
        f'(target <= {TARGET:.2f})']
