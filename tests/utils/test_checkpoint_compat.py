import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer

import seg_plugins  # noqa: F401  (registers the allow-list)
from seg_plugins.utils.checkpoint_compat import checkpoint_safe_globals


def allowed_names():
    names = set()
    for item in checkpoint_safe_globals():
        if isinstance(item, tuple):
            names.add(item[1].replace('__builtin__', 'builtins'))
        else:
            names.add(f'{item.__module__}.{item.__qualname__}')
    return names


def test_history_buffer_round_trips_with_weights_only(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    torch.save({'hub': buf}, tmp_path / 'c.pth')
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)['hub']
    assert loaded.mean() == pytest.approx(2.0)


class NotAllowed:
    pass


def test_other_objects_are_still_refused(tmp_path):
    torch.save({'x': NotAllowed()}, tmp_path / 'bad.pth')
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        torch.load(tmp_path / 'bad.pth', weights_only=True)


def test_getattr_is_restricted_to_history_buffer(tmp_path):

    class Evil:

        def __reduce__(self):
            # An allowed class, but an attribute that is not a statistic.
            return getattr, (HistoryBuffer, '__init__')

    torch.save({'x': Evil()}, tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        torch.load(tmp_path / 'evil.pth', weights_only=True)


def test_runner_checkpoint_needs_nothing_beyond_allow_list(trained_demo):
    """Every global in a real mmseg runner checkpoint is allow-listed."""
    ckpt = trained_demo / 'iter_4.pth'
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(ckpt)
    assert set(unsafe) <= allowed_names(), set(unsafe) - allowed_names()
