"""Sphinx configuration of the seg_plugins documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W -b html docs/en docs/en/_build/html
"""
import os
import re
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

# In the docstrings '|' is text ("|x_A - x_B|", "str | None"); reST would
# read "|...|" as a substitution. Escape it outside literals.
LITERAL = re.compile(r'(``.*?``)')


def escape_bars(app, what, name, obj, options, lines):
    literal_indent = None
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not line.strip() or indent > literal_indent:
                continue  # inside a literal block
            literal_indent = None
        parts = LITERAL.split(line)
        lines[i] = ''.join(p if p.startswith('``') else p.replace('|', r'\|')
                           for p in parts)
        if line.rstrip().endswith('::'):
            literal_indent = indent


# A docstring may open with its section ('"""Args:'): Python's dedent then
# leaves the entries at the header's level, where napoleon sees no section.
SECTIONS = ('Args:', 'Arguments:', 'Returns:', 'Yields:', 'Raises:')


def indent_opening_section(app, what, name, obj, options, lines):
    if lines and lines[0].strip() in SECTIONS and len(lines) > 1 \
            and lines[1] and not lines[1][0].isspace():
        lines[1:] = ['    ' + line if line else line for line in lines[1:]]


def setup(app):
    # Before napoleon (priority 500) turns the sections into fields.
    app.connect('autodoc-process-docstring', indent_opening_section,
                priority=100)
    app.connect('autodoc-process-docstring', escape_bars)
