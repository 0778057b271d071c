# Copyright (c) OpenMMLab. All rights reserved.
"""setup.py compiles the ops in a C++ standard the installed torch's headers
accept (C++20 from torch 2.10).

Building every op takes many minutes; this compiles one translation unit
that includes torch's core headers, with the flags setup.py gives the
extension, which is where the build of the whole package fails first.
"""
import os
import os.path as osp
import runpy
import shutil
import subprocess

import pytest
import setuptools
from torch.utils.cpp_extension import include_paths

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SOURCE = '#include <c10/core/TensorImpl.h>\nint main() { return 0; }\n'


def extension_cxx_flags(monkeypatch):
    """``extra_compile_args['cxx']`` of the ops extension setup.py builds."""
    kwargs = {}
    monkeypatch.setattr(setuptools, 'setup', lambda **kw: kwargs.update(kw))
    monkeypatch.setenv('MMCV_WITH_OPS', '1')
    monkeypatch.setenv('FORCE_CUDA', '0')
    monkeypatch.chdir(ROOT)
    runpy.run_path('setup.py', run_name='__main__')
    (ext, ) = kwargs['ext_modules']
    return ext.extra_compile_args['cxx']


@pytest.mark.skipif(shutil.which('c++') is None, reason='no C++ compiler')
def test_torch_headers_compile_with_the_extension_flags(monkeypatch,
                                                        tmp_path):
    flags = extension_cxx_flags(monkeypatch)
    source = tmp_path / 'tu.cpp'
    source.write_text(SOURCE)
    cmd = ['c++', '-fsyntax-only', *flags, str(source)]
    cmd += [f'-I{path}' for path in include_paths()]
    result = subprocess.run(cmd, capture_output=True, text=True,
                            env=dict(os.environ, LC_ALL='C'))
    assert result.returncode == 0, result.stderr[-2000:]
