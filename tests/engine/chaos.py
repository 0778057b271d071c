"""Helpers of the crash-safe training tests: a tiny change-detection run
of configs/changedet_demo.py driven through tools/train.py, killed or
signalled from outside, and its checkpoints read back."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO

CONFIG = 'configs/changedet_demo.py'
MAX_ITERS = 20
ITER_LINE = re.compile(r'Iter\(train\) \[\s*(\d+)/')


def options(data, max_iters=MAX_ITERS, num_workers=1):
    """--cfg-options: tiny model (4 base channels, 3 stages), dropout 0.2,
    the config's photometric + geometric augmentation, checkpoints every 2
    iterations with max_keep_ckpts=1, validation every 2 (the best by OA:
    F1 stays 0 on this tiny model)."""
    return [f'{split}_dataloader.dataset.data_root={data}'
            for split in ('train', 'val', 'test')] + [
                f'train_cfg.max_iters={max_iters}',
                'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2',
                'default_hooks.checkpoint.max_keep_ckpts=1',
                'default_hooks.checkpoint.save_best=OA',
                'default_hooks.logger.interval=1',
                'model.backbone.dropout_ratio=0.2',
                'model.backbone.base_channels=4',
                'model.backbone.num_stages=3',
                'model.decode_head.in_channels=4',
                'train_dataloader.batch_size=2',
                f'train_dataloader.num_workers={num_workers}',
                f'train_dataloader.persistent_workers={num_workers > 0}',
                'val_dataloader.batch_size=2',
            ]


def train_cmd(work, data, *extra, max_iters=MAX_ITERS, resume=True,
              cfg_options=()):
    cmd = [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work)]
    if resume:
        cmd.append('--resume')
    return cmd + list(extra) + [
        '--cfg-options', *options(data, max_iters), *cfg_options]


def _env(env=None):
    return dict(os.environ, PYTHONUNBUFFERED='1', PYTHON=sys.executable,
                PYTHONPATH=str(REPO), **(env or {}))


def run(cmd, env=None, timeout=300):
    """Run to the end. Returns (returncode, output)."""
    proc = subprocess.run(cmd, cwd=REPO, env=_env(env), timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    return proc.returncode, proc.stdout


def run_until(cmd, at_iter, sig, env=None, timeout=300):
    """Start ``cmd``; send ``sig`` once it logs training iteration
    ``at_iter`` (or a later one). Returns (returncode, output)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(env),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out, sent, deadline = [], False, time.monotonic() + timeout
    try:
        for line in proc.stdout:
            out.append(line)
            m = ITER_LINE.search(line)
            if not sent and m and int(m.group(1)) >= at_iter:
                os.kill(proc.pid, sig)
                sent = True
            if time.monotonic() > deadline:
                raise TimeoutError
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f'{cmd} did not end within {timeout} s:\n'
                    + ''.join(out)[-4000:])
    return proc.returncode, ''.join(out)


def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def last_checkpoint(work: Path) -> Path:
    """The checkpoint ``last_checkpoint`` names; asserts it loads."""
    target = Path((work / 'last_checkpoint').read_text().strip())
    assert target.is_file(), f'last_checkpoint names missing {target}'
    load(target)
    return target


def assert_same_weights(a, b):
    sa, sb = load(a)['state_dict'], load(b)['state_dict']
    assert sa.keys() == sb.keys()
    differ = [k for k in sa if not torch.equal(sa[k], sb[k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'


def finite(path) -> bool:
    return all(torch.isfinite(t).all() for t in load(path)['state_dict']
               .values() if t.is_floating_point())
