r"""Check each upstream patch against the pinned release it is written for.

Per package: copy the pinned release (the installed mmseg 1.2.2 and
mmengine 0.10.7, or the mmcv 2.1.0 source distribution) into a temporary
folder, run the fixes' tests (written in upstream's own test layout) and
expect each to fail; apply the patches, run the tests again and expect each
to pass. ``--isolated`` does it fix by fix, each patch alone on a fresh
copy (slower: two test runs per fix). Prints a table; exits 1 unless every
fix that ran behaved so.

    python upstream/run.py [--isolated] [--offline] [--keep] [--json OUT]
        [NAME ...]

The mmcv sdist is looked for in ``$MMCV_SDIST``, then in
``$SEG_PLUGINS_CACHE/sdists`` (``~/.cache/seg_plugins/sdists``, where
``tools/install.sh`` keeps the one it builds from), then downloaded there
with pip unless ``--offline``; without it that fix is reported as skipped.
"""
import argparse
import importlib.metadata
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import tempfile
from typing import Dict, List, NamedTuple, Optional, Tuple

HERE = osp.dirname(osp.abspath(__file__))
# package: (distribution, pinned version)
PINS = {
    'mmseg': ('mmsegmentation', '1.2.2'),
    'mmengine': ('mmengine', '0.10.7'),
    'mmcv': ('mmcv', '2.1.0'),
}


class Fix(NamedTuple):
    name: str
    package: str
    patch: str
    test: str
    upstream: str  # the issue or pull request it answers, if any


FIXES = [
    Fix('dice-one-logit', 'mmseg', 'dice_loss_one_logit.patch',
        'tests/test_models/test_losses/test_dice_loss_one_logit.py', '-'),
    Fix('tta-sigmoid-once', 'mmseg', 'seg_tta_sigmoid_once.patch',
        'tests/test_models/test_segmentors/test_seg_tta_sigmoid_once.py',
        '-'),
    Fix('checkpoint-write-first', 'mmengine',
        'checkpoint_hook_write_first.patch',
        'tests/test_hooks/test_checkpoint_hook_write_first.py', '-'),
    Fix('atomic-put', 'mmengine', 'local_backend_atomic_put.patch',
        'tests/test_fileio/test_backends/test_local_backend_atomic_put.py',
        '-'),
    Fix('resume-weights-only', 'mmengine', 'checkpoint_weights_only.patch',
        'tests/test_runner/test_checkpoint_weights_only.py',
        'open-mmlab/mmengine#1655, #1650'),
    Fix('resume-seed-first', 'mmengine', 'resume_seed_first.patch',
        'tests/test_runner/test_runner_resume_seed.py',
        'open-mmlab/mmengine#1468'),
    Fix('mmcv-cxx-standard', 'mmcv', 'setup_cxx_standard.patch',
        'tests/test_setup_cxx_standard.py', 'open-mmlab/mmcv#3035'),
]


def installed_copy(package: str, dest: str) -> str:
    """Copy the installed ``package`` into ``dest``; return the root the
    patches apply in (``dest``)."""
    dist, version = PINS[package]
    found = importlib.metadata.version(dist)
    if found != version:
        raise RuntimeError(f'{dist} {found} is installed; the patches are '
                           f'for the pinned {version}')
    spec = importlib.util.find_spec(package)
    src = list(spec.submodule_search_locations)[0]
    shutil.copytree(src, osp.join(dest, package),
                    ignore=shutil.ignore_patterns('__pycache__'))
    return dest


def mmcv_sdist(offline: bool) -> Tuple[Optional[str], str]:
    """(path of the mmcv sdist, '') or (None, why there is none)."""
    name = f'mmcv-{PINS["mmcv"][1]}.tar.gz'
    if os.environ.get('MMCV_SDIST'):
        return os.environ['MMCV_SDIST'], ''
    cache = osp.join(
        os.environ.get('SEG_PLUGINS_CACHE') or osp.join(
            os.environ.get('XDG_CACHE_HOME') or osp.expanduser('~/.cache'),
            'seg_plugins'), 'sdists')
    path = osp.join(cache, name)
    if osp.isfile(path):
        return path, ''
    if offline:
        return None, f'no {name} in {cache} (and --offline)'
    os.makedirs(cache, exist_ok=True)
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'download', '-q', '--no-deps',
         '--no-binary', ':all:', '--no-build-isolation', '-d', cache,
         f'mmcv=={PINS["mmcv"][1]}'], capture_output=True, text=True)
    if result.returncode or not osp.isfile(path):
        return None, f'pip could not download {name}: ' + (
            result.stderr.strip().splitlines() or ['?'])[-1]
    return path, ''


def sdist_copy(sdist: str, dest: str) -> str:
    with tarfile.open(sdist) as tar:
        tar.extractall(dest, filter='data')
    return osp.join(dest, f'mmcv-{PINS["mmcv"][1]}')


def apply(patch: str, root: str) -> None:
    result = subprocess.run(['patch', '-p1', '--batch', '--forward', '-i',
                             patch], cwd=root, capture_output=True,
                            text=True)
    if result.returncode:
        raise RuntimeError(f'{osp.relpath(patch, HERE)} does not apply to '
                           f'the pinned release:\n{result.stdout}')


def run_tests(root: str, fixes: List[Fix]) -> Dict[str, str]:
    """Run the fixes' tests in one pytest process; per fix: 'pass', 'fail'
    (a test failed) or 'error: ...' (it could not run)."""
    env = dict(os.environ)
    if fixes[0].package != 'mmcv':  # the copy shadows the installed one
        env['PYTHONPATH'] = os.pathsep.join(
            [root] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-rA', '-p',
         'no:cacheprovider', '--import-mode=importlib', f'--rootdir={root}',
         '-W', 'ignore::DeprecationWarning', *[f.test for f in fixes]],
        cwd=root, env=env, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    outcomes = {}
    for fix in fixes:
        mine = [line.split()[0] for line in lines
                if line.split()[1:2] and line.split()[1].startswith(fix.test)]
        if 'ERROR' in mine or not mine:
            tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
            outcomes[fix.name] = 'error: ' + ' | '.join(tail)
        elif 'FAILED' in mine:
            outcomes[fix.name] = 'fail'
        else:
            outcomes[fix.name] = 'pass' if 'PASSED' in mine else 'skipped'
    return outcomes


def check(fixes: List[Fix], sdist: Optional[str], keep: bool) -> List[dict]:
    """Run the tests of ``fixes`` (one package) before and after their
    patches."""
    package = fixes[0].package
    rows = [dict(name=f.name, package=package, upstream=f.upstream,
                 unpatched='-', patched='-') for f in fixes]
    tmp = tempfile.mkdtemp(prefix=f'upstream-{package}-')
    try:
        if package == 'mmcv':
            root = sdist_copy(sdist, tmp)
        else:
            root = installed_copy(package, tmp)
        for fix in fixes:
            test = osp.join(root, fix.test)
            os.makedirs(osp.dirname(test), exist_ok=True)
            shutil.copy(osp.join(HERE, package, fix.test), test)
        before = run_tests(root, fixes)
        for fix in fixes:
            apply(osp.join(HERE, package, 'patches', fix.patch), root)
        after = run_tests(root, fixes)
    except RuntimeError as e:
        for row in rows:
            row['result'] = f'ERROR {e}'
        return rows
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for row in rows:
        row.update(unpatched=before[row['name']], patched=after[row['name']])
        ok = row['unpatched'] == 'fail' and row['patched'] == 'pass'
        row['result'] = 'OK' if ok else 'UNEXPECTED'
        if keep:
            row['dir'] = tmp
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*', help='fixes to check (all)')
    parser.add_argument('--isolated', action='store_true',
                        help='each patch alone on a fresh copy')
    parser.add_argument('--offline', action='store_true',
                        help='never download the mmcv sdist')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary copies')
    parser.add_argument('--json', help='also write the rows to this file')
    args = parser.parse_args()
    unknown = set(args.names) - {f.name for f in FIXES}
    if unknown:
        parser.error(f'unknown fix(es) {sorted(unknown)}; choose from '
                     f'{[f.name for f in FIXES]}')
    chosen = [f for f in FIXES if not args.names or f.name in args.names]
    groups = [[f] for f in chosen] if args.isolated else [
        [f for f in chosen if f.package == p] for p in PINS]
    rows = []
    for fixes in filter(None, groups):
        sdist = None
        if fixes[0].package == 'mmcv':
            sdist, why = mmcv_sdist(args.offline)
            if sdist is None:
                rows += [dict(name=f.name, package=f.package,
                              upstream=f.upstream, unpatched='-', patched='-',
                              result=f'SKIPPED ({why})') for f in fixes]
                continue
        rows += check(fixes, sdist, args.keep)
    cols = ('name', 'package', 'upstream', 'unpatched', 'patched', 'result')
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    for line in [dict(zip(cols, cols))] + rows:
        print('  '.join(str(line[c]).ljust(w) for c, w in zip(cols, widths)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    bad = [r for r in rows if not r['result'].startswith(('OK', 'SKIPPED'))]
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
