"""upstream/run.py: every upstream bug this package works around fails its
test on the pinned release and passes it with the patch."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location('upstream_run',
                                               REPO / 'upstream/run.py')
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def check(tmp_path, *names):
    """Rows of ``upstream/run.py --offline NAMES``, after asserting it
    exits 0."""
    out = tmp_path / 'rows.json'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'upstream/run.py'), '--offline',
         '--json', str(out), *names], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())
    assert [r['name'] for r in rows] == list(names)
    return rows


def test_mmseg_and_mmengine_patches_fix_what_fails(tmp_path):
    names = [f.name for f in run.FIXES if f.package != 'mmcv']
    for row in check(tmp_path, *names):
        assert (row['unpatched'], row['patched'], row['result']) == (
            'fail', 'pass', 'OK'), row


def test_mmcv_setup_patch_fixes_the_build_flags(tmp_path):
    (row, ) = check(tmp_path, 'mmcv-cxx-standard')
    if row['result'].startswith('SKIPPED'):
        pytest.skip(f"mmcv sdist not available offline: {row['result']}")
    assert (row['unpatched'], row['patched'], row['result']) == (
        'fail', 'pass', 'OK'), row
