r"""Runner overhead: tools/train.py's runner vs a bare PyTorch loop.

Both train the same model (built from the config), with the same batch size,
input size and image files, for the same number of timed iterations after
the same warm-up. The bare loop is the U-Net tutorial's ("图像分割"): a
Dataset reading PNGs with PIL, a DataLoader, forward, cross entropy,
backward, step.

    python tools/analysis/benchmark_train.py configs/unet_strided_demo.py \
        --data-root data/shapes --iters 30

Prints iterations/s of both and the runner/bare time-per-iteration ratio
(target <= 1.10 on CPU).

``--amp``: instead, the runner in fp32 against the runner with
``tools/train.py --amp`` (bf16 autocast on the CPU, ``BF16OptimWrapper``),
the config's own pipeline, on a synthetic LEVIR-layout change set of
``--size`` pairs (no ``--data-root`` needed):

    python tools/analysis/benchmark_train.py configs/changedet_demo.py \
        --amp --size 64 --batch-size 8        # the demo's size
    python tools/analysis/benchmark_train.py configs/changedet_demo.py \
        --amp --size 256 --batch-size 8       # 256^2 crops

Targets (CPU with AMX): >= 1.3x per iteration at the demo's size, >= 1.8x
at 256^2.
"""
import argparse
import copy
import glob
import os.path as osp
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

import seg_plugins  # noqa: F401
from seg_plugins.utils.runner_setup import load_config


class IterClock(Hook):
    """Times iterations [warmup, warmup + iters) of the runner."""

    def __init__(self, warmup):
        self.warmup = warmup
        self.start = self.end = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.warmup:
            self.start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.end = time.perf_counter()


class PngPairs(torch.utils.data.Dataset):
    """The U-Net tutorial's loader: image and label PNGs -> tensors."""

    def __init__(self, img_dir, ann_dir, mean, std):
        self.imgs = sorted(glob.glob(osp.join(img_dir, '*.png')))
        self.ann_dir = ann_dir
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __len__(self):
        return len(self.imgs)

    def __getitem__(self, i):
        img = np.asarray(Image.open(self.imgs[i]).convert('RGB'), np.float32)
        img = (torch.from_numpy(img).permute(2, 0, 1) - self.mean) / self.std
        label = np.asarray(
            Image.open(osp.join(self.ann_dir, osp.basename(self.imgs[i]))))
        return img, torch.from_numpy(label.astype(np.int64))


def runner_time(cfg, warmup, iters):
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


def bare_time(cfg, model, warmup, iters):
    ds_cfg = cfg.train_dataloader.dataset
    root, prefix = ds_cfg.data_root, ds_cfg.data_prefix
    pre = cfg.model.data_preprocessor
    dataset = PngPairs(osp.join(root, prefix.img_path),
                       osp.join(root, prefix.seg_map_path), pre.mean, pre.std)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=cfg.train_dataloader.batch_size, shuffle=True,
        drop_last=True, num_workers=cfg.train_dataloader.num_workers)
    backbone, head = model.backbone, model.decode_head
    optimizer = torch.optim.Adam(model.parameters(),
                                 lr=cfg.optim_wrapper.optimizer.lr)
    model.train()
    done, start = 0, None
    while done < warmup + iters:
        for img, label in loader:
            if done == warmup:
                start = time.perf_counter()
            logits = head(backbone(img))
            logits = F.interpolate(logits, label.shape[-2:], mode='bilinear')
            loss = F.cross_entropy(logits, label, ignore_index=255)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if done == warmup + iters:
                break
    return (time.perf_counter() - start) / iters


def amp_compare(args):
    """Runner time per iteration, fp32 against ``--amp``."""
    import tempfile

    from seg_plugins.engine.amp import use_amp
    from seg_plugins.utils.synthetic import make_change_dataset
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root or make_change_dataset(
            tmp, {'train': 2 * args.batch_size}, size=args.size, seed=0)
        crop = (args.size, args.size)
        cfg = load_config(args.config, work_dir=args.work_dir, cfg_options={
            'train_dataloader.dataset.data_root': root,
            'train_dataloader.batch_size': args.batch_size,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
            'test_dataloader': None, 'test_cfg': None,
            'test_evaluator': None})
        for step in cfg.train_dataloader.dataset.pipeline:
            if step.type == 'RandomCrop':
                step.crop_size = crop
        times = {}
        for name in ('fp32', 'bf16'):
            run = copy.deepcopy(cfg)
            if name == 'bf16':
                use_amp(run, 'bf16')
            torch.manual_seed(0)
            times[name] = runner_time(run, args.warmup, args.iters)[0]
            print(f'{name}: {times[name] * 1e3:.1f} ms/iter', flush=True)
    print(f'--amp speed-up per iteration at {args.batch_size}x{args.size}^2: '
          f'{times["fp32"] / times["bf16"]:.2f}x (targets: >= 1.3x at the '
          "demo's size, >= 1.8x at 256^2)")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--data-root')
    parser.add_argument('--amp', action='store_true',
                        help='fp32 against bf16 mixed precision')
    parser.add_argument('--size', type=int, default=64,
                        help='--amp: side of the synthetic pairs and crops')
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--work-dir', default='work_dirs/benchmark_train')
    args = parser.parse_args()
    if args.amp:
        return amp_compare(args)
    if not args.data_root:
        parser.error('--data-root is needed (without --amp)')
    cfg = load_config(args.config, work_dir=args.work_dir, cfg_options={
        'train_dataloader.dataset.data_root': args.data_root,
        'train_dataloader.batch_size': args.batch_size,
        'train_dataloader.num_workers': 0,
        # The bare loop has no augmentation; keep the runner's equal.
        'train_dataloader.dataset.pipeline': [
            dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')],
        'train_dataloader.persistent_workers': False,
        'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
        'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None,
    })
    torch.manual_seed(0)
    t_runner, model = runner_time(cfg, args.warmup, args.iters)
    t_bare = bare_time(cfg, model, args.warmup, args.iters)
    print(f'runner: {1 / t_runner:.2f} it/s  ({t_runner * 1e3:.1f} ms/iter)')
    print(f'bare:   {1 / t_bare:.2f} it/s  ({t_bare * 1e3:.1f} ms/iter)')
    print(f'ratio runner/bare time per iteration: {t_runner / t_bare:.3f} '
          '(target <= 1.10)')


if __name__ == '__main__':
    main()
