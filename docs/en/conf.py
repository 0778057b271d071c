"""Sphinx configuration of the seg_plugins documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W -b html docs/en docs/en/_build/html
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

from seg_plugins import __version__  # noqa: E402

project = 'seg_plugins'
author = 'seg_plugins contributors'
copyright = 'seg_plugins contributors'
version = release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
root_doc = 'index'
exclude_patterns = ['_build']

# Markdown as in MMSegmentation's docs: ``:::`` fences, heading anchors for
# in-page links, pictures with attributes.
myst_enable_extensions = ['colon_fence', 'attrs_inline']
myst_heading_anchors = 3

# The API reference: one page per module of the package, generated at build
# time from the docstrings (Google style) into api/ (not committed).
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = 'sphinx_rtd_theme'
html_static_path = ['_static']
html_title = f'seg_plugins {version}'
