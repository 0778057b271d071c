import contextlib
import io
import os
import runpy
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Tuple

import pytest

from seg_plugins.utils.synthetic import make_shapes_dataset

REPO = Path(__file__).resolve().parents[1]

# Under pytest-xdist (the README's command runs two workers, one per core
# of CI's machine) each worker and every tool it starts keep to one
# thread: two workers of two threads each would fight over the cores.
if os.environ.get('PYTEST_XDIST_WORKER'):
    import torch
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


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


def run_tool_in_process(tool, *args, expect_fail=False):
    """``python <tool> <args>`` from the repository root, run in this
    process by ``runpy``: what :func:`run_tool` checks and returns, without
    a new interpreter's seconds of imports. Use :func:`run_tool` where a
    test needs a process of its own (signals, memory, exit at teardown).

    The tool starts as in a new process and leaves this one as it found
    it: see :func:`_as_a_new_process`. Warnings follow the test's filters
    (pytest.ini), so a seg_plugins warning fails the test.

    Returns:
        str: stdout and stderr together.
    """
    argv = [str(REPO / tool), *map(str, args)]
    out = io.StringIO()
    with _as_a_new_process(), contextlib.chdir(REPO), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        sys.argv = argv
        try:
            runpy.run_path(argv[0], run_name='__main__')
            code = 0
        except SystemExit as e:  # as the interpreter reports sys.exit(x)
            code = 0 if e.code is None else e.code
            if not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
        except Exception:
            traceback.print_exc()
            code = 1
    if (code != 0) != expect_fail:
        pytest.fail(f'{tool} {list(map(str, args))} exited {code}:\n'
                    f'{out.getvalue()[-6000:]}')
    return out.getvalue()


def _manager_classes():
    """mmengine's ManagerMixin classes imported so far (MMLogger,
    MessageHub, DefaultScope, Visualizer and subclasses): each keeps its
    own dict of named instances."""
    from mmengine.utils import ManagerMixin
    found, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@contextlib.contextmanager
def _as_a_new_process():
    """Run the body with no mmengine named instances, and put back what a
    tool changes: those instances, warning filters, SIGTERM/SIGINT
    handlers, RNG states, environment, argv, multiprocessing start method
    and OpenCV's thread count.

    mmengine names a runner's logger, message hub, visualizer and default
    scope after the config and the second the run started: a second run of
    a config within that second would get the first one's (its log file,
    its training state). Loggers made in the body are closed after it.
    """
    import multiprocessing
    import random
    import warnings

    import cv2
    import numpy as np
    import torch
    saved = {cls: dict(cls._instance_dict) for cls in _manager_classes()}
    for cls in saved:
        cls._instance_dict.clear()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM,
                                                 signal.SIGINT)}
    rng = random.getstate(), np.random.get_state(), torch.get_rng_state()
    environ, argv = dict(os.environ), sys.argv
    start_method = multiprocessing.get_start_method(allow_none=True)
    cv2_threads = cv2.getNumThreads()
    try:
        with warnings.catch_warnings():
            yield
    finally:
        for cls in _manager_classes():
            for instance in cls._instance_dict.values():
                for handler in getattr(instance, 'handlers', []):
                    handler.close()
            cls._instance_dict.clear()
            cls._instance_dict.update(saved.get(cls, {}))
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        random.setstate(rng[0])
        np.random.set_state(rng[1])
        torch.set_rng_state(rng[2])
        for key in set(os.environ) - set(environ):
            del os.environ[key]
        os.environ.update(environ)
        sys.argv = argv
        multiprocessing.set_start_method(start_method, force=True)
        cv2.setNumThreads(cv2_threads)


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
