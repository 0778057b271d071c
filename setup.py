"""Packaging for seg_plugins.

Versions are pinned in ``requirements.txt`` only; this file reads them.
mmcv 2.1.0 has no wheel for current torch: ``tools/install.sh`` builds it
(with ops) before installing this package.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name):
    """Requirement lines of ``name``, without comments and blank lines."""
    lines = (HERE / name).read_text().splitlines()
    reqs = (ln.split('#')[0].strip() for ln in lines)
    return [r for r in reqs if r]


def read_version():
    scope = {}
    exec((HERE / 'seg_plugins' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='seg_plugins',
    version=read_version(),
    description='U-Net, FCN, VOC colour labels, PennFudan and change '
    'detection as MMSegmentation / MMDetection plugins',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements.txt'),
    extras_require={'tests': read_requirements('requirements-tests.txt')},
    license='Apache-2.0',
)
