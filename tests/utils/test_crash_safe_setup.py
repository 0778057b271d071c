"""tools/train.py's config upgrade and the atomic writer, without training."""
import errno
from pathlib import Path

import pytest
from mmengine.config import Config

import seg_plugins  # noqa: F401  (registers the hooks and the backend)
from seg_plugins.engine import atomic_write
from seg_plugins.utils.runner_setup import load_config, make_crash_safe
from tests.conftest import REPO

CONFIGS = sorted(p.relative_to(REPO) for p in (REPO / 'configs').glob('*.py'))


@pytest.mark.parametrize('config', CONFIGS, ids=str)
def test_every_config_gets_the_safe_hooks_with_its_arguments(config):
    cfg = load_config(str(REPO / config))
    before = dict(cfg.default_hooks.get('checkpoint') or {})
    make_crash_safe(cfg)
    after = dict(cfg.default_hooks.checkpoint)
    assert after.pop('type') == 'SafeCheckpointHook'
    before.pop('type', None)
    assert after == (before or dict(interval=1))
    assert [h['type'] for h in cfg.custom_hooks].count('FiniteLossHook') == 1


def test_an_own_finite_loss_hook_is_kept():
    cfg = Config(dict(default_hooks=dict(), custom_hooks=[
        dict(type='FiniteLossHook', action='skip')]))
    make_crash_safe(cfg)
    assert cfg.custom_hooks == [dict(type='FiniteLossHook', action='skip')]


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / 'c.pth'
    atomic_write(path, b'old')
    atomic_write(path, b'new' * 1000)
    assert path.read_bytes() == b'new' * 1000
    assert [p.name for p in tmp_path.iterdir()] == ['c.pth']
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_disk_full_names_the_file_and_the_space(tmp_path, monkeypatch):
    path = tmp_path / 'iter_4.pth'
    atomic_write(path, b'earlier')
    monkeypatch.setenv('SEG_PLUGINS_CHAOS', 'enospc:iter_4')
    with pytest.raises(OSError) as e:
        atomic_write(path, b'x' * 3 * 2**20)
    assert e.value.errno == errno.ENOSPC
    assert f'no space left to write {path}: it needs 3.0 MiB' in str(e.value)
    assert path.read_bytes() == b'earlier'
    assert sorted(Path(tmp_path).iterdir()) == [path]
