"""A full disk during a checkpoint write: earlier files intact, a clear error.

With mmengine 0.10.7 the oldest kept checkpoint is deleted first and the
new one is written in place: the failed write leaves a truncated file and,
with max_keep_ckpts=1, no checkpoint at all.
"""
import os
import subprocess
import uuid

import pytest

from tests.engine.chaos import MAX_ITERS, last_checkpoint, load, run, train_cmd


@pytest.fixture
def small_disk(tmp_path, uninterrupted):
    """A tmpfs with room for one checkpoint and a half (root only); None
    where it cannot be mounted (the write then fails by injection)."""
    size = (uninterrupted[0] / f'iter_{MAX_ITERS}.pth').stat().st_size
    mnt = tmp_path / f'disk_{uuid.uuid4().hex[:6]}'
    mnt.mkdir()
    pages = (size * 3 // 2) // 4096 + 1
    ok = os.geteuid() == 0 and subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', f'size={pages * 4096}', 'tmpfs',
         str(mnt)], capture_output=True).returncode == 0
    yield mnt if ok else None
    if ok:
        subprocess.run(['umount', str(mnt)], check=True)


def test_disk_full_keeps_earlier_checkpoints(tmp_path, cd_data, small_disk):
    work = tmp_path / 'work'
    extra, env = [], {}
    if small_disk is not None:  # a real ENOSPC from the file system
        extra = [f'default_hooks.checkpoint.out_dir={small_disk}']
        ckpts = small_disk / 'work'
    else:
        env = {'SEG_PLUGINS_CHAOS': 'enospc:iter_4.pth'}
        ckpts = work
    rc, out = run(train_cmd(work, cd_data, max_iters=6, resume=False,
                            cfg_options=['train_cfg.val_interval=100',
                                         *extra]), env=env)
    assert rc != 0
    assert f'no space left to write {ckpts / "iter_4.pth"}: it needs' in out
    assert 'MiB' in out.split('it needs')[1].split('\n')[0] or \
        'bytes' in out.split('it needs')[1].split('\n')[0]
    assert last_checkpoint(work) == ckpts / 'iter_2.pth'
    assert load(ckpts / 'iter_2.pth')['meta']['iter'] == 2
    assert sorted(p.name for p in ckpts.iterdir()) == ['iter_2.pth']
