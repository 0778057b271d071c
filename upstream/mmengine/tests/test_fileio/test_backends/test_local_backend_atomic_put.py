# Copyright (c) OpenMMLab. All rights reserved.
import os

import pytest

from mmengine.fileio.backends import LocalBackend


def test_failed_put_keeps_the_previous_file(tmp_path):
    # A write that fails halfway (here: str instead of bytes; in practice a
    # full disk or a kill) must leave the previous content, not a
    # truncated file under the final name.
    backend = LocalBackend()
    path = tmp_path / 'epoch_1.pth'
    backend.put(b'complete checkpoint', path)
    with pytest.raises(TypeError):
        backend.put('not bytes', path)
    assert backend.get(path) == b'complete checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left


def test_put_keeps_the_mode_open_gives(tmp_path):
    backend = LocalBackend()
    path = tmp_path / 'a.pth'
    backend.put(b'x', path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
