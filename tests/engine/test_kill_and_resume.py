"""SIGKILL at any moment, then --resume: nothing lost, exactly the same run.

Each test would fail with mmengine 0.10.7's CheckpointHook: it deletes the
only checkpoint (max_keep_ckpts=1) and the previous best before writing
their successors, writes in place (a kill leaves a truncated file under the
final name) and saves no RNG state (the resumed run draws other dropout).
"""
import random
import shutil
import signal

from tests.engine.chaos import (
    MAX_ITERS,
    assert_same_weights,
    last_checkpoint,
    load,
    run,
    run_until,
    train_cmd,
)

CHAOS = 'SEG_PLUGINS_CHAOS'


def killed_in_write(work, data, spec):
    rc, out = run(train_cmd(work, data), env={CHAOS: spec})
    assert rc == -signal.SIGKILL, f'{spec} did not kill the run:\n' + \
        out[-3000:]
    return out


def resumed_iter(work):
    """The iteration a --resume would continue from (0: from scratch)."""
    if not (work / 'last_checkpoint').exists():
        return 0
    return load(last_checkpoint(work))['meta']['iter']


def killed_at_random_iteration(work, data, rng):
    at = resumed_iter(work) + rng.randint(1, 3)
    rc, out = run_until(train_cmd(work, data), at, signal.SIGKILL)
    assert rc == -signal.SIGKILL, f'kill at {at}: {out[-3000:]}'
    last_checkpoint(work)
    return at


def test_kills_in_writes_and_at_random_iterations_resume_exactly(
        tmp_path, cd_data, uninterrupted):
    """Seven SIGKILLs in one run: inside the interval, best and
    last_checkpoint writes (max_keep_ckpts=1) and at 3 random iterations;
    after each a valid checkpoint (and the best) exist; --resume finishes
    with exactly the weights of the uninterrupted run."""
    ref, _, bests = uninterrupted
    assert bests[:2] == [2, 4], f'the reference improved at {bests}'
    rng = random.SystemRandom()
    work = tmp_path / 'work'
    kills = []

    # In the middle of iter_4.pth: iter_2.pth (the only one kept) survives.
    killed_in_write(work, cd_data, 'kill:iter_4.pth:20000')
    assert last_checkpoint(work).name == 'iter_2.pth'
    assert not (work / 'iter_4.pth').exists()

    # In the middle of the second best: the first best survives.
    killed_in_write(work, cd_data, 'kill:best_OA_iter_4:5000')
    assert load(work / 'best_OA_iter_2.pth')['meta']['iter'] == 2
    assert not (work / 'best_OA_iter_4.pth').exists()

    kills.append(killed_at_random_iteration(work, cd_data, rng))

    # In the middle of last_checkpoint: it still names a checkpoint that
    # loads (the new one is written, the old one not yet removed).
    before = resumed_iter(work)
    killed_in_write(work, cd_data, 'kill:last_checkpoint:10')
    assert resumed_iter(work) == before

    kills.append(killed_at_random_iteration(work, cd_data, rng))

    # Renamed into place, last_checkpoint not yet updated.
    before = resumed_iter(work)
    killed_in_write(work, cd_data, 'kill:iter_:replaced')
    assert resumed_iter(work) == before
    assert (work / f'iter_{before + 2}.pth').is_file()

    kills.append(killed_at_random_iteration(work, cd_data, rng))
    # A best checkpoint that loads (a later best may have replaced iter 2's).
    bests = list(work.glob('best_OA_iter_*.pth'))
    assert len(bests) == 1 and load(bests[0])['meta']['iter'] >= 2

    rc, out = run(train_cmd(work, cd_data))
    assert rc == 0, out[-3000:]
    # Randomly killed at `kills`.
    assert_same_weights(work / f'iter_{MAX_ITERS}.pth',
                        ref / f'iter_{MAX_ITERS}.pth'), kills


def test_truncated_latest_falls_back_to_an_earlier_one(
        tmp_path, cd_data, uninterrupted):
    ref = uninterrupted[0]
    work = tmp_path / 'work'
    work.mkdir()
    # The reference run's last two checkpoints, the latest cut short as
    # upstream's in-place write leaves it when killed.
    for name in (f'iter_{MAX_ITERS - 2}.pth', f'iter_{MAX_ITERS}.pth'):
        shutil.copy(ref / name, work / name)
    latest = work / f'iter_{MAX_ITERS}.pth'
    latest.write_bytes(latest.read_bytes()[:latest.stat().st_size // 2])
    (work / 'last_checkpoint').write_text(str(latest))

    rc, out = run(train_cmd(work, cd_data))
    assert rc == 0, out[-3000:]
    assert f'{latest} cannot be loaded' in out
    assert f'resumed epoch: 0, iter: {MAX_ITERS - 2}' in out
    assert_same_weights(latest, ref / f'iter_{MAX_ITERS}.pth')
