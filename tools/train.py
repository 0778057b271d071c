"""Train an mmseg or mmdet config (picked by its ``default_scope``).

    python tools/train.py configs/changedet_unet.py [--work-dir DIR]
        [--resume [CHECKPOINT]] [--amp] [--auto-scale-lr]
        [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]
"""
import argparse
import logging
import sys

from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

import seg_plugins  # noqa: F401  (registers components, torch compat)
from seg_plugins.utils.runner_setup import (
    build_runner,
    default_scope,
    load_config,
    parse_runner_args,
    setup_device,
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
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr linearly from the config\'s '
        'auto_scale_lr.base_batch_size to GPUs x batch size')
    return parse_runner_args(parser)


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    default_scope(cfg)

    if args.amp:
        if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config.',
                      logger='current', level=logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        scale = cfg.get('auto_scale_lr', None)
        if not scale or 'base_batch_size' not in scale:
            sys.exit(f'error: --auto-scale-lr needs auto_scale_lr = dict('
                     f'base_batch_size=...) in {args.config}: the batch size '
                     f'its lr was set for')
        scale.enable = True

    if args.resume == 'auto':
        latest = find_latest_checkpoint(cfg.work_dir)
        if latest is not None:
            cfg.resume, cfg.load_from = True, latest
        elif cfg.get('load_from'):
            # Nothing to resume yet (e.g. a crash before the first
            # checkpoint): start from load_from, as without --resume,
            # rather than silently from scratch as upstream does.
            print_log(
                f'--resume: no checkpoint in {cfg.work_dir} yet, starting '
                f'from load_from={cfg.load_from}', logger='current',
                level=logging.WARNING)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    setup_device(cfg)
    try:
        runner = build_runner(cfg)
        runner.train()
    except FileNotFoundError as e:  # missing data: the message is enough
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
