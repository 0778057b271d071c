"""Train an mmseg or mmdet config (picked by its ``default_scope``).

    python tools/train.py configs/changedet_unet.py [--work-dir DIR]
        [--resume [CHECKPOINT]] [--amp [--amp-dtype {auto,fp16,bf16}]]
        [--auto-scale-lr]
        [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]

Every config trains crash-safe (``SafeCheckpointHook``, ``FiniteLossHook``):
on SIGTERM / SIGINT the run writes a checkpoint and exits with code 75
(``seg_plugins.engine.EXIT_PREEMPTED``); rerun with ``--resume`` to continue.
"""
import argparse
import logging
import sys

from mmengine.logging import print_log

import seg_plugins  # noqa: F401  (registers components, torch compat)
from seg_plugins.engine import find_resumable_checkpoint, load_resumable
from seg_plugins.engine.amp import use_amp
from seg_plugins.utils.precision import set_precision
from seg_plugins.utils.quiet_upstream import quiet_upstream, quiet_upstream_log
from seg_plugins.utils.runner_setup import (
    build_runner,
    default_scope,
    load_config,
    make_crash_safe,
    parse_runner_args,
    process_group_closed_at_end,
    setup_device,
    workers_ignore_stop_signals,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CHECKPOINT; without a value, from the latest '
        'checkpoint in the work dir (or, if there is none yet, start from '
        'load_from)')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision: fp16 with a loss scaler on a GPU, '
        'bf16 on the CPU; validation runs in the same precision')
    parser.add_argument(
        '--amp-dtype', choices=['auto', 'fp16', 'bf16'], default='auto',
        help='the dtype of --amp (auto: fp16 on a GPU, bf16 on the CPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr linearly from the config\'s '
        'auto_scale_lr.base_batch_size to GPUs x batch size')
    return parse_runner_args(parser)


def resume_seed(cfg, meta: dict) -> None:
    """Train with the seed of the run being resumed.

    mmengine restores it only after the train dataloader (sampler order,
    worker seeds) was built with a new random one: a config without a fixed
    seed would resume with other data order and augmentation.
    """
    seed = meta.get('seed')
    # Assigned whole: Config.setdefault hands back a copy, and a randomness
    # dict without 'seed' makes Runner.set_randomness fail.
    randomness = dict(cfg.get('randomness', None) or {})
    if seed is not None and randomness.get('seed') is None:
        randomness['seed'] = seed
        cfg.randomness = randomness
        print_log(f'--resume: seed {seed} of the resumed run',
                  logger='current')


def main():
    quiet_upstream()
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    default_scope(cfg)

    amp = use_amp(cfg, args.amp_dtype) if args.amp else None

    if args.auto_scale_lr:
        scale = cfg.get('auto_scale_lr', None)
        if not scale or 'base_batch_size' not in scale:
            sys.exit(f'error: --auto-scale-lr needs auto_scale_lr = dict('
                     f'base_batch_size=...) in {args.config}: the batch size '
                     f'its lr was set for')
        scale.enable = True

    resumed = None
    if args.resume == 'auto':
        # Only a checkpoint that loads: a truncated or corrupt one is named
        # in a warning and the newest earlier one is used.
        resumed = find_resumable_checkpoint(cfg.work_dir)
        if resumed is not None:
            cfg.resume, cfg.load_from = True, resumed.path
        elif cfg.get('load_from'):
            # Nothing to resume yet (e.g. a crash before the first
            # checkpoint): start from load_from, as without --resume,
            # rather than silently from scratch as upstream does.
            print_log(
                f'--resume: no loadable checkpoint in {cfg.work_dir}, '
                f'starting from load_from={cfg.load_from}', logger='current',
                level=logging.WARNING)
        else:
            print_log(
                f'--resume: no loadable checkpoint in {cfg.work_dir}, '
                'starting from scratch', logger='current',
                level=logging.WARNING)
    elif args.resume is not None:
        resumed, problem = load_resumable(args.resume)
        if resumed is None:
            sys.exit(f'error: --resume {args.resume}: {problem}')
        cfg.resume = True
        cfg.load_from = args.resume
    if resumed is not None:
        resume_seed(cfg, resumed.meta)
    make_crash_safe(cfg)

    setup_device(cfg)
    with process_group_closed_at_end():
        try:
            runner = build_runner(cfg)
            quiet_upstream_log(runner.logger)
            if amp is not None and hasattr(
                    getattr(runner.model, 'module', runner.model),
                    'encode_decode'):
                set_precision(runner.model, amp)  # validation as trained
            workers_ignore_stop_signals(runner)
            runner.train()
        except FileNotFoundError as e:  # missing data: the message is enough
            sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
