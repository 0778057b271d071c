"""The scene benchmarks' child processes, run for real on small scripts."""
import argparse

import pytest

from seg_plugins.benchmarks import scene_child
from seg_plugins.benchmarks.scene_child import forwarded, option_flags

ECHO = '''import json, os, sys
print('noise before the result')
print(json.dumps(dict(argv=sys.argv[1:],
                      mmap=os.environ.get('MALLOC_MMAP_THRESHOLD_'))))
'''


def test_child_gets_the_flags_and_fixed_threshold_only_for_peaks(
        tmp_path, monkeypatch):
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_', raising=False)
    script = tmp_path / 'echo.py'
    script.write_text(ECHO)
    args = argparse.Namespace(work_dir='/w', batch_size=4, tile=256)
    flags = option_flags(forwarded(args, ('batch_size', 'work_dir')))
    assert flags == ['--batch-size', '4', '--work-dir', '/w']
    out = scene_child.run_child(str(script), flags, 'echo', live_memory=True)
    assert out == dict(argv=flags, mmap=str(128 * 1024))
    # glibc's default initial threshold
    assert scene_child.MMAP_THRESHOLD == 128 * 1024
    assert scene_child.run_child(str(script), [], 'echo')['mmap'] is None


def test_failed_child_exits_with_its_label_and_stderr(tmp_path):
    script = tmp_path / 'fail.py'
    script.write_text("import sys\nsys.exit('no such pair: x.tif')\n")
    with pytest.raises(SystemExit) as info:
        scene_child.run_child(str(script), [], 'scene on x.tif')
    message = str(info.value.code)
    assert message.startswith('scene on x.tif failed:\n')
    assert 'no such pair: x.tif' in message
