"""Time per training iteration of mmengine's runner, as the training
benchmark (``tools/analysis/benchmark_train.py``) measures it."""
import copy
import time
from typing import List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.runner import Runner

from seg_plugins.utils.runner_setup import load_config


class IterClock(Hook):
    """Times iterations [warmup, warmup + iters) of the runner.

    Args:
        warmup (int): the iterations before the clock starts.
    """

    def __init__(self, warmup: int):
        self.warmup = warmup
        self.start = self.end = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.warmup:
            self.start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.end = time.perf_counter()


def train_only_config(config: str, data_root: str,
                      batch_size: int, work_dir: str,
                      pipeline: Optional[List[dict]] = None):
    """``config`` read as ``tools/train.py`` reads it, for training alone.

    Args:
        config (str): the config file.
        data_root (str): the training set's folder.
        batch_size (int): samples per batch.
        work_dir (str): the runner's work folder.
        pipeline (list[dict], optional): replaces the training pipeline.

    Returns:
        mmengine.Config: with no data-loading workers, and no validation
        or test loop.
    """
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
        'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None}
    if pipeline is not None:
        options['train_dataloader.dataset.pipeline'] = pipeline
    return load_config(config, work_dir=work_dir, cfg_options=options)


def runner_time(cfg, warmup: int, iters: int) -> Tuple[float, object]:
    """Train ``warmup + iters`` iterations with mmengine's runner.

    Args:
        cfg (mmengine.Config): the training config (not changed).
        warmup (int): the untimed iterations first.
        iters (int): the timed iterations.

    Returns:
        tuple: seconds per timed iteration and the trained model.
    """
    cfg = copy.deepcopy(cfg)
    cfg.train_cfg = dict(type='IterBasedTrainLoop',
                         max_iters=warmup + iters, val_interval=10**9)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**9, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    clock = IterClock(warmup)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(clock, priority='VERY_LOW')
    runner.train()
    return (clock.end - clock.start) / iters, runner.model
