import re

import pytest

from seg_plugins.utils.synthetic import make_change_dataset
from tests.engine.chaos import run, train_cmd


@pytest.fixture(scope='session')
def cd_data(tmp_path_factory):
    return make_change_dataset(
        str(tmp_path_factory.mktemp('chaos_data')),
        {'train': 8, 'val': 2, 'test': 2}, size=32, seed=5)


@pytest.fixture(scope='session')
def uninterrupted(tmp_path_factory, cd_data):
    """The reference: the run never killed. Returns (work dir, output,
    the iterations at which a new best checkpoint was written)."""
    work = tmp_path_factory.mktemp('uninterrupted')
    rc, out = run(train_cmd(
        work, cd_data, resume=False,
        cfg_options=['default_hooks.checkpoint.max_keep_ckpts=2']))
    assert rc == 0, out[-4000:]
    bests = [int(i) for i in re.findall(
        r'The best checkpoint with \S+ OA at (\d+) iter', out)]
    return work, out, bests
