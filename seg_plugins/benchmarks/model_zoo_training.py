"""The change-model benchmark's training runs: one per model and set.

A run trains a config derived from the model's with the benchmark's
schedule (written to ``<work-dir>/<model>__<set>/config.py``, so
``tools/train.py`` and ``tools/test.py --protocol whole`` rerun it) by
mmengine's runner, as ``tools/train.py`` builds it, then tests the last
weights on whole images. Its result is kept beside the config, keyed by
the config and the source of the modules its model is built from.
"""
import hashlib
import inspect
import json
import os
import os.path as osp
import time

from .model_zoo import PIPELINE, REPO, SCHEDULE, SETS, model_name


def train_pipeline(crop: int) -> list:
    """open-cd's standard LEVIR-CD augmentation at ``crop``.

    Rotation, crop with ``cat_max_ratio``, flips and photometric
    distortion per date: every model sees the same.

    Args:
        crop (int): side of the random training crop.

    Returns:
        list[dict]: the train pipeline of :data:`.model_zoo.PIPELINE`.
    """
    from mmengine.config import Config
    pipeline = Config.fromfile(osp.join(REPO, PIPELINE)).train_pipeline
    for step in pipeline:
        if step['type'] == 'RandomCrop':
            step['crop_size'] = (crop, crop)
    return [step.to_dict() for step in pipeline]


def _schedule_lines(s: dict) -> list:
    """The optimizer, scheduler, loop and hook lines of schedule ``s``."""
    return [
        "optim_wrapper = dict(_delete_=True, type='OptimWrapper', "
        f"optimizer=dict(type='AdamW', lr={s['lr']}, betas=(0.9, 0.999), "
        f"weight_decay={s['weight_decay']}))",
        'param_scheduler = [',
        "    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, "
        f"begin=0, end={s['warmup']}),",
        "    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, "
        f"begin={s['warmup']}, end={s['iters']})]",
        "train_cfg = dict(type='IterBasedTrainLoop', "
        f"max_iters={s['iters']}, val_interval={s['iters']})",
        'default_hooks = dict(',
        '    logger=dict(interval=10),',
        f"    checkpoint=dict(interval={s['iters']}, max_keep_ckpts=1, "
        'save_best=None))',
        f"randomness = dict(seed={s['seed']})",
    ]


def derived_config(config: str, root: str, crop: int,
                   schedule: dict = SCHEDULE) -> str:
    """Text of a config over ``config`` that trains it on a synthetic set.

    Args:
        config (str): the model's config, relative to the repository.
        root (str): the synthetic set's folder.
        crop (int): side of the training crop.
        schedule (dict): the schedule, keyed as :data:`.model_zoo.SCHEDULE`.

    Returns:
        str: the config's Python text.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    lines = [
        f'# {config} with the schedule of '
        'tools/analysis/benchmark_models.py',
        f"_base_ = ['{osp.join(REPO, config)}']",
        f"data_root = '{root}'", f'crop_size = ({crop}, {crop})',
        f'train_pipeline = {train_pipeline(crop)!r}',
        'train_dataloader = dict(',
        f"    batch_size={schedule['batch_size']}, num_workers=1,",
        '    persistent_workers=False,',
        '    dataset=dict(data_root=data_root, pipeline=train_pipeline))',
    ]
    lines.append('test_dataloader = dict(batch_size=1, num_workers=0, '
                 'persistent_workers=False, '
                 'dataset=dict(data_root=data_root))')
    # No validation: the last weights are tested, whatever a validation
    # would have picked.
    lines.append('val_dataloader = val_cfg = val_evaluator = None')
    # Tested whole; a preprocessor with a fixed size pads to the crop.
    pre = cfg.model.get('data_preprocessor', {}) or {}
    lines.append("model = dict(test_cfg=dict(mode='whole')" + (
        ', data_preprocessor=dict(size=crop_size))'
        if pre.get('size') is not None else ')'))
    lines += _schedule_lines(schedule)
    return '\n'.join(lines) + '\n'


def model_sources(config_file: str) -> str:
    """Digest of a config and of the source of every module its model names.

    Args:
        config_file (str): a derived config.

    Returns:
        str: 16 hex digits that change when the config or the source of a
        registered module its model uses changes (so it is retrained).
    """
    from mmengine.config import Config
    from mmseg.registry import MODELS

    import seg_plugins  # noqa: F401  (registers components)
    cfg = Config.fromfile(config_file)
    digest = hashlib.sha256(cfg.pretty_text.encode())
    types = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get('type'), str):
                types.add(node['type'])
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(cfg.model)
    for name in sorted(types):
        cls = MODELS.get(name)
        try:
            digest.update(inspect.getsource(inspect.getmodule(cls)).encode())
        except (OSError, TypeError):  # not found, or built in
            continue
    return digest.hexdigest()[:16]


def plan_run(config: str, set_name: str, data_dir: str, work_dir: str,
             retrain: bool, schedule: dict = SCHEDULE) -> dict:
    """Write the derived config of ``config`` on ``set_name``.

    The synthetic set is written first if it is missing.

    Args:
        config (str): the model's config, relative to the repository.
        set_name (str): a key of :data:`.model_zoo.SETS`.
        data_dir (str): where the synthetic sets are.
        work_dir (str): the benchmark's work dir.
        retrain (bool): ignore a kept result.
        schedule (dict): the schedule, keyed as :data:`.model_zoo.SCHEDULE`.

    Returns:
        dict: ``set``, ``run_dir``, ``config`` (the derived one) and
        ``key`` (:func:`model_sources`), with ``result`` (marked
        ``reused``) where a kept result has the same key.
    """
    folder, preset, size, crop = SETS[set_name]
    root = osp.join(data_dir, folder)
    if not osp.isdir(osp.join(root, 'test')):
        from seg_plugins.utils.synthetic import make_change_dataset
        make_change_dataset(root, size=size, preset=preset)
    run_dir = osp.join(work_dir, f'{model_name(config)}__{set_name}')
    os.makedirs(run_dir, exist_ok=True)
    derived = osp.join(run_dir, 'config.py')
    with open(derived, 'w') as f:
        f.write(derived_config(config, root, crop, schedule))
    plan = dict(set=set_name, run_dir=run_dir, config=derived,
                key=model_sources(derived))
    result_file = osp.join(run_dir, 'result.json')
    if not retrain and osp.isfile(result_file):
        with open(result_file) as f:
            kept = json.load(f)
        if kept.get('key') == plan['key']:
            plan['result'] = dict(kept, reused=True)
    return plan


def train_and_test(plan: dict) -> dict:
    """Train a planned run as tools/train.py does, then test its last weights.

    Args:
        plan (dict): a plan of :func:`plan_run`.

    Returns:
        dict: ``F1``, ``IoU``, ``best_F1``, ``best_threshold`` (in %, on
        whole test images), ``train_s``, ``protocol``, ``config`` and
        ``key``; also written to the run's ``result.json``.
    """
    from seg_plugins.utils.runner_setup import (
        build_runner,
        load_config,
        make_crash_safe,
        setup_device,
    )
    cfg = load_config(plan['config'], work_dir=plan['run_dir'])
    make_crash_safe(cfg)
    setup_device(cfg)
    runner = build_runner(cfg)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    metrics = runner.test()
    result = dict(key=plan['key'], F1=float(metrics['F1']),
                  IoU=float(metrics['IoU']), protocol='whole',
                  best_F1=float(metrics.get('best_F1', 'nan')),
                  best_threshold=float(metrics.get('best_threshold', 'nan')),
                  train_s=train_s, config=osp.relpath(plan['config'], REPO))
    with open(osp.join(plan['run_dir'], 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result
