"""The tools destroy the process group before the interpreter ends (gloo
ranks that skip it can abort at exit after a successful run)."""
import contextlib

import pytest
import torch.distributed as dist

from seg_plugins.utils.runner_setup import process_group_closed_at_end


@pytest.fixture
def group(tmp_path):
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.mark.parametrize('end', ['return', 'exit'])
def test_destroyed_on_normal_end_and_on_exit(group, end):
    expected = (pytest.raises(SystemExit) if end == 'exit' else
                contextlib.nullcontext())
    with expected:
        with process_group_closed_at_end():
            assert dist.is_initialized()
            if end == 'exit':  # a graceful stop or a clean error exit
                raise SystemExit(75)
    assert not dist.is_initialized()


def test_kept_on_a_crash(group):
    """Another rank may still wait in a collective: not destroyed (which
    could hang); the exception goes on unchanged."""
    with pytest.raises(RuntimeError, match='boom'):
        with process_group_closed_at_end():
            raise RuntimeError('boom')
    assert dist.is_initialized()


def test_no_group_is_fine():
    with process_group_closed_at_end():
        pass
    assert not dist.is_initialized()
