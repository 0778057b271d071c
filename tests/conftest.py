import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Tuple

import pytest

from seg_plugins.utils.synthetic import make_shapes_dataset

REPO = Path(__file__).resolve().parents[1]


def run_cmd(cmd, cwd=None, env=None, timeout=900, expect_fail=False):
    """Run ``cmd`` from the repository root; fail the test with its output
    if it fails (or, with ``expect_fail``, if it succeeds).

    ``PYTHON`` is set to this interpreter for the shell tools.

    Returns:
        str: stdout and stderr together.
    """
    full_env = dict(os.environ, PYTHON=sys.executable, PYTHONUNBUFFERED='1',
                    **(env or {}))
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd or REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if (proc.returncode != 0) != expect_fail:
        pytest.fail(f'{cmd} exited {proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc.stdout


def run_tool(*args, **kwargs):
    """``python <args>`` through :func:`run_cmd`."""
    return run_cmd([sys.executable, *args], **kwargs)


def kill_when(cmd, ready, timeout=120) -> int:
    """Run ``cmd`` from the repository root and kill it (SIGKILL) at the
    first line of its output for which ``ready(line)`` is true; fail the
    test if it ends before.

    Returns:
        int: its exit status (-9 once killed).
    """
    return signal_when(cmd, ready, signal.SIGKILL, timeout)[0]


def signal_when(cmd, ready, sig, timeout=120) -> Tuple[int, str]:
    """Run ``cmd`` from the repository root, send it ``sig`` at the first
    line of its output (``\\r`` ends a line too: progress bars) for which
    ``ready(line)`` is true, and wait for it to end; fail the test if it
    ends before.

    Returns:
        tuple: its exit status, and its output (stdout and stderr).
    """
    proc = subprocess.Popen(
        [str(c) for c in cmd], cwd=REPO, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED='1'))
    lines = []
    try:
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            lines.append(line)
            if ready(line):
                break
            if time.monotonic() > deadline:
                pytest.fail(f'{cmd}: no line to signal at in {timeout} s')
        else:
            pytest.fail(f'{cmd} ended before it could be signalled:\n' +
                        ''.join(lines)[-3000:])
        proc.send_signal(sig)
        lines.append(proc.stdout.read())
        return proc.wait(timeout=60), ''.join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def demo_options(data_root, max_iters):
    """``--cfg-options`` for a short unet_strided_demo.py run on
    ``data_root``."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2'
    ]


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """A tiny synthetic dataset in mmseg's img_dir/ann_dir layout."""
    root = tmp_path_factory.mktemp('shapes')
    return Path(make_shapes_dataset(str(root), {'train': 8, 'val': 4},
                                    size=32, seed=1))


@pytest.fixture(scope='session')
def trained_demo(tmp_path_factory):
    """configs/unet_strided_demo.py trained 4 iterations by tools/train.py.

    Returns:
        Path: the work dir; the dataset is its sibling ``shapes``.
    """
    base = tmp_path_factory.mktemp('demo')
    data = Path(make_shapes_dataset(str(base / 'shapes'),
                                    {'train': 8, 'val': 4}, size=32, seed=2))
    work = base / 'work'
    run_tool('tools/train.py', 'configs/unet_strided_demo.py', '--work-dir',
             work, '--cfg-options', *demo_options(data, max_iters=4))
    return work


@pytest.fixture
def mmseg_scope():
    """Build registry strings (transforms, models) in mmseg's scope."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
