"""The documentation: it builds with warnings as errors, every tool it
lists answers ``--help``, ``model-index.yml`` covers every model README,
and the pages stay a guide rather than a log."""
import json
import re
import sys

import yaml

from tests.conftest import REPO, run_cmd

DOCS = REPO / 'docs' / 'en'
# This repository's tools (not mmseg's own, under its '.mim/tools/').
TOOL = re.compile(r'(?<![\w./])tools/[\w/]+\.(?:py|sh)\b')
# A dated entry ("2026-12-05"): run history belongs to git, not the docs.
DATE = re.compile(r'\b20\d\d-\d\d-\d\d\b')
# Where the package's names used to point instead of citing a work.
PRIVATE = re.compile(r'\bseed 0\d\d\b|write-up|\bthe document\b|_doc\.py',
                     re.IGNORECASE)

# Runs each tool as ``python TOOL --help`` would, all in one interpreter:
# the stack is imported once instead of once per tool.
HELP_RUNNER = r'''
import contextlib, io, json, os, runpy, sys
results = {}
for path in sys.argv[1:]:
    out = io.StringIO()
    sys.argv = [path, '--help']
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(path, run_name='__main__')
        code = 'returned without exiting'
    except SystemExit as exit:
        code = exit.code or 0
    except BaseException as error:
        code = repr(error)
    finally:
        sys.path.pop(0)
    results[path] = [code, out.getvalue()]
print(json.dumps(results))
'''


def pages():
    """README.md and every Markdown page of docs/en (not build output)."""
    found = [p for p in DOCS.rglob('*.md')
             if not {'_build', 'api'} & set(p.relative_to(DOCS).parts)]
    return [REPO / 'README.md', *sorted(found)]


def test_docs_build_with_warnings_as_errors(tmp_path):
    html = tmp_path / 'html'
    run_cmd([sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
             '-b', 'html', '-d', tmp_path / 'doctrees', DOCS, html])
    for page in pages()[1:]:
        rel = page.relative_to(DOCS).with_suffix('.html')
        assert (html / rel).is_file(), f'{page} was not built'
    # The API reference is generated from the docstrings, module by module.
    api = '\n'.join(p.read_text() for p in (html / 'api').glob('*.html'))
    for name in ('infer_change_scene', 'BiTemporalChangeDataset',
                 'StridedConvUNet', 'SafeCheckpointHook'):
        assert name in api, f'{name} missing from the API reference'
    # Every picture a page shows is in the site.
    shown = {m for p in pages()[1:] for m in re.findall(
        r'_static/([\w.-]+\.png)', p.read_text(encoding='utf-8'))}
    assert shown, 'the pages show no picture'
    built = {p.name for p in html.rglob('*.png')}
    assert shown <= built, f'pictures not in the site: {shown - built}'


def test_every_tool_the_docs_list_answers_help():
    listed = sorted({t for p in pages()
                     for t in TOOL.findall(p.read_text(encoding='utf-8'))})
    missing = [t for t in listed if not (REPO / t).is_file()]
    assert not missing, f'the docs list tools that do not exist: {missing}'
    scripts = [t for t in listed if t.endswith('.py')]
    assert len(scripts) >= 10, scripts
    out = run_cmd([sys.executable, '-c', HELP_RUNNER, *scripts])
    results = json.loads(out.strip().splitlines()[-1])
    failed = {t: r for t, r in results.items()
              if r[0] != 0 or 'usage:' not in r[1]}
    assert not failed, '\n'.join(f'{t}: exit {r[0]}\n{r[1][-1500:]}'
                                 for t, r in failed.items())


def test_model_index_imports_every_metafile_and_their_configs_exist():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    imported = sorted(index['Import'])
    on_disk = sorted(str(p.relative_to(REPO))
                     for p in DOCS.glob('models/*/metafile.yaml'))
    assert imported == on_disk
    for meta in on_disk:
        data = yaml.safe_load((REPO / meta).read_text(encoding='utf-8'))
        collections = {c['Name']: c for c in data['Collections']}
        for collection in collections.values():
            assert (REPO / collection['README']).is_file(), meta
        assert data['Models'], f'{meta} lists no model'
        for model in data['Models']:
            assert model['In Collection'] in collections, (meta, model)
            assert (REPO / model['Config']).is_file(), (meta, model)


def test_model_readmes_follow_mmseg_format():
    for readme in sorted(DOCS.glob('models/*/README.md')):
        text = readme.read_text(encoding='utf-8')
        assert re.search(r'^> \[.+\]\(https?://', text, re.M), readme
        for part in ('<!-- [ALGORITHM] -->', '## Abstract',
                     '## Results and models', '```bibtex', '| config'):
            assert part in text, f'{readme} has no {part!r}'


def test_pages_are_a_guide_not_a_log():
    readme = (REPO / 'README.md').read_text(encoding='utf-8')
    assert len(readme.splitlines()) <= 250
    for page in pages():
        text = page.read_text(encoding='utf-8')
        assert not DATE.search(text), f'{page}: {DATE.search(text)[0]}'
        assert not PRIVATE.search(text), f'{page}: {PRIVATE.search(text)[0]}'
