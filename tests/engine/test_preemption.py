"""SIGTERM: finish the iteration, write a checkpoint, exit 75, resume at +1.

mmengine 0.10.7 has no handler: the process dies on SIGTERM and everything
since the last interval checkpoint is lost.
"""
import re
import signal
import socket

from seg_plugins.engine import EXIT_PREEMPTED
from tests.engine.chaos import (
    MAX_ITERS,
    assert_same_weights,
    last_checkpoint,
    load,
    run,
    run_until,
    train_cmd,
)

STOPPED = re.compile(r'Stopped by (\w+).* after iteration (\d+)')


def test_sigterm_writes_a_checkpoint_and_resume_continues(
        tmp_path, cd_data, uninterrupted):
    ref = uninterrupted[0]
    work = tmp_path / 'work'
    # Iteration 5 writes no interval checkpoint (interval 2).
    rc, out = run_until(train_cmd(work, cd_data), 5, signal.SIGTERM)
    assert rc == EXIT_PREEMPTED, out[-3000:]
    sig, stopped = STOPPED.search(out).groups()
    stopped = int(stopped)
    assert sig == 'SIGTERM' and stopped >= 5
    assert f'Iter(train) [{stopped + 1:>2}/' not in out
    assert 'Resume with: python tools/train.py' in out
    ckpt = last_checkpoint(work)
    assert ckpt.name == f'iter_{stopped}.pth'
    assert load(ckpt)['meta']['iter'] == stopped

    rc, out = run(train_cmd(work, cd_data))
    assert rc == 0, out[-3000:]
    assert f'resumed epoch: 0, iter: {stopped}' in out
    assert re.search(rf'Iter\(train\) \[\s*{stopped + 1}/', out)
    assert_same_weights(work / f'iter_{MAX_ITERS}.pth',
                        ref / f'iter_{MAX_ITERS}.pth')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_sigterm_to_torchrun_stops_every_rank_at_one_iteration(
        tmp_path, cd_data):
    work = tmp_path / 'work'
    cmd = train_cmd(work, cd_data, max_iters=40)
    # tools/dist_train.sh CONFIG 2 ...: torchrun, 2 CPU processes (gloo).
    dist = ['bash', 'tools/dist_train.sh', cmd[2], '2', *cmd[3:]]
    env = {'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'}
    # torchrun signals both ranks' process groups (dataloader workers
    # included) and gives them 30 s before SIGKILL; the bound is the test's.
    rc, out = run_until(dist, 3, signal.SIGTERM, env=env, timeout=150)
    assert rc != 0
    assert 'exited unexpectedly' not in out, out[-3000:]
    stopped = int(STOPPED.search(out).group(2))
    assert not re.search(rf'Iter\(train\) \[\s*{stopped + 1}/', out)
    ckpt = load(last_checkpoint(work))
    assert ckpt['meta']['iter'] == stopped
    assert len(ckpt['rng_state']) == 2  # both ranks' states, rank 0 wrote

    rc, out = run(['bash', 'tools/dist_train.sh', cmd[2], '2', *cmd[3:],
                   f'train_cfg.max_iters={stopped + 2}'],
                  env=dict(env, PORT=str(free_port())), timeout=150)
    assert rc == 0, out[-3000:]
    assert f'resumed epoch: 0, iter: {stopped}' in out
    assert re.search(rf'Iter\(train\) \[\s*{stopped + 1}/', out)
