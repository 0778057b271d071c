"""The radiometry benchmark's recipes and the training config of each.

A recipe (a key of :data:`RECIPES`) is a pair: whether training augments
with ``RandomRadiometric``, and which normalisation (``'none'``,
``'standardize'`` or ``'match'``) both training (``RadiometricNormalize``)
and scene inference (``radiometric=``) use. ``'none'`` is the model before
either; ``'aug'``, the 4-band config's own, is the default.
"""
import copy
import json
import os.path as osp
from typing import Tuple

CONFIG = 'configs/changedet_unet_4band_uint16.py'
# The configs live in the repository beside the package.
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


def recipe_config(recipe: str, data: dict, work_dir: str, iters: int = 300,
                  base_channels: int = 8, num_stages: int = 4,
                  batch_size: int = 8, lr: float = 5e-3,
                  seed: int = 0) -> Tuple[object, str]:
    """The 4-band config, shrunk to a CPU run on ``data``'s chips, with
    ``recipe``'s augmentation and normalisation.

    Args:
        recipe (str): a key of :data:`RECIPES`.
        data (dict): what
            :func:`~seg_plugins.benchmarks.radiometry_data.write_data`
            returns (``chips`` and ``stats`` are read).
        work_dir (str): the runner's work folder.
        iters (int): training iterations (linear warm-up, then poly to 0).
        base_channels (int): the U-Net's base channels.
        num_stages (int): the U-Net's stages.
        batch_size (int): chips per batch.
        lr (float): the peak learning rate.
        seed (int): the runner's seed.

    Returns:
        tuple: the ``mmengine.Config`` (training only: no validation,
        checkpoints or logs) and the recipe's normalisation method
        (``'none'``, ``'standardize'`` or ``'match'``).
    """
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
