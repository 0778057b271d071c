"""Mixed precision's speed-up: mmengine's runner in fp32 against the same
run with ``tools/train.py --amp`` (bf16 autocast on the CPU through
``BF16OptimWrapper``, :func:`seg_plugins.engine.amp.use_amp`)."""
import copy
import tempfile
from typing import Dict, Optional

import torch

from seg_plugins.engine.amp import train_channels_last, use_amp
from seg_plugins.utils.synthetic import make_change_dataset

from .training_runner import runner_time, train_only_config


def compare_amp(config: str, size: int, batch_size: int, iters: int,
                warmup: int, work_dir: str,
                data_root: Optional[str] = None) -> Dict[str, float]:
    """Runner time per iteration, fp32 against ``--amp``, printing each;
    and fp32 in channels-last layout, to tell layout from precision.

    Both runs train the config's own pipeline with its ``RandomCrop`` set
    to ``size``.

    Args:
        config (str): a change-detection config.
        size (int): side of the synthetic pairs and of the crops.
        batch_size (int): pairs per batch.
        iters (int): the timed iterations.
        warmup (int): the untimed iterations before them.
        work_dir (str): the runner's work folder.
        data_root (str, optional): a LEVIR-layout set; None: a synthetic
            one of ``2 * batch_size`` pairs of ``size`` squared.

    Returns:
        dict[str, float]: seconds per iteration: ``fp32``,
        ``fp32_channels_last`` (fp32 in ``--amp``'s layout on the CPU,
        ``ChannelsLastHook``) and ``bf16`` (``--amp``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = data_root or make_change_dataset(
            tmp, {'train': 2 * batch_size}, size=size, seed=0)
        cfg = train_only_config(config, root, batch_size, work_dir)
        for step in cfg.train_dataloader.dataset.pipeline:
            if step.type == 'RandomCrop':
                step.crop_size = (size, size)
        times = {}
        for name in ('fp32', 'fp32_channels_last', 'bf16'):
            run = copy.deepcopy(cfg)
            if name == 'bf16':
                use_amp(run, 'bf16')
            elif name == 'fp32_channels_last':  # --amp's layout, in fp32
                train_channels_last(run)
            torch.manual_seed(0)
            times[name] = runner_time(run, warmup, iters)[0]
            print(f'{name}: {times[name] * 1e3:.1f} ms/iter', flush=True)
    return times


def amp_line(times: Dict[str, float], batch_size: int, size: int) -> str:
    """The speed-up per iteration and its targets.

    Args:
        times (dict[str, float]): what :func:`compare_amp` returns.
        batch_size (int): pairs per batch of the runs.
        size (int): side of the crops of the runs.

    Returns:
        str: one line.
    """
    return (f'--amp speed-up per iteration at {batch_size}x{size}^2: '
            f'{times["fp32"] / times["bf16"]:.2f}x (targets: >= 1.3x at the '
            "demo's size, >= 1.8x at 256^2); "
            f'{times["fp32_channels_last"] / times["bf16"]:.2f}x over fp32 '
            'in channels-last layout')
