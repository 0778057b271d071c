"""What a user sees: each tool's main path with its output sent to a file
has no upstream deprecation notice, no Python warning and no ``\\r``
progress update; under a pseudo-terminal the live bar is drawn."""
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.cd_fixture import write_pair
from tests.conftest import REPO
from tests.geo.scene_fixture import TINY_CONFIG, scene_bands, write_tif

# A line Python's warnings module writes: "path.py:12: SomeWarning: ...".
WARNING_LINE = re.compile(r'^\S+:\d+: \w*Warning: ', re.M)


def run_logged(log: Path, *args) -> str:
    """``python <args>`` from the repository root with stdout and stderr
    sent to the file ``log``, as a user's ``> log 2>&1``; its text."""
    with open(log, 'w') as f:
        rc = subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                            stdout=f, stderr=subprocess.STDOUT,
                            timeout=600).returncode
    text = log.read_text()
    assert rc == 0, text[-4000:]
    return text


def assert_clean(text: str) -> None:
    """No ``\\r``, no Python warning line, no deprecation notice (torch's
    compiler flags in the environment mmengine logs aside)."""
    assert '\r' not in text, repr(text[text.index('\r') - 200:][:400])
    assert not WARNING_LINE.findall(text), WARNING_LINE.findall(text)
    deprecated = [line for line in text.splitlines()
                  if re.search('deprecat', line, re.I)
                  and not line.startswith('  - Build settings:')]
    assert not deprecated, deprecated


def progress_lines(text: str, total: int, unit: str) -> list:
    """(count, elapsed seconds) of each plain progress line of a loop of
    ``total`` steps."""
    return [(int(n), int(h) * 3600 + int(m) * 60 + int(s))
            for n, h, m, s in re.findall(
                rf'^(\d+)/{total}, \d+%, [\d.]+ {unit}/s, elapsed: '
                r'(\d+):(\d\d):(\d\d), ETA: [\d:]+$', text, re.M)]


def assert_tenths(lines: list, total: int, batch: int = 1) -> None:
    """A line at each tenth of the work (updates of ``batch`` steps may
    pass one), the last at the end, and besides them only one every
    30 s."""
    counts = [n for n, _ in lines]
    assert counts and counts[-1] == total, counts
    assert np.diff([0] + counts).max() <= max(np.ceil(total / 10), batch)
    assert len(lines) <= 10 + lines[-1][1] // 30, lines


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """tools/train.py, 2 iterations of the tiny change U-Net on four
    LEVIR-CD pairs (32^2 PNGs), its output in a file; a GeoTIFF scene
    pair (130x120) beside it."""
    root = tmp_path_factory.mktemp('clean')
    rng = np.random.default_rng(0)
    for split, n in (('train', 4), ('val', 2), ('test', 2)):
        for i in range(n):
            a = rng.integers(0, 200, (32, 32, 3), dtype=np.uint8)
            b, label = a.copy(), np.zeros((32, 32), np.uint8)
            b[4:16, 6:20] += 50
            label[4:16, 6:20] = 255
            write_pair(root / 'cd', split, f'{split}_{i}', a, b, label)
    config = root / 'tiny_cd.py'
    config.write_text(TINY_CONFIG)
    data = [f'{d}_dataloader.dataset.data_root={root / "cd"}'
            for d in ('train', 'val', 'test')]
    log = run_logged(
        root / 'train.log', 'tools/train.py', config, '--work-dir',
        root / 'work', '--cfg-options', *data, 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False')
    for date in 'ab':
        write_tif(root / f'{date}.tif', scene_bands(130, 120, ord(date)))
    write_tif(root / 'label.tif',
              (rng.random((1, 130, 120)) < 0.3).astype(np.uint8))
    return root, config, root / 'work' / 'iter_2.pth', log


def test_train(trained):
    log = trained[3]
    assert 'Iter(train) [2/2]' in log  # mmengine's logger: plain lines
    assert_clean(log)


def test_test(trained):
    root, config, ckpt, _ = trained
    log = run_logged(root / 'test.log', 'tools/test.py', config, ckpt,
                     '--work-dir', root / 'test', '--cfg-options',
                     f'test_dataloader.dataset.data_root={root / "cd"}')
    assert 'Iter(test) [1/1]' in log and 'metrics: ' in log
    assert_clean(log)


def test_infer_scene(trained, tmp_path):
    root, config, ckpt, _ = trained
    log = run_logged(tmp_path / 'infer.log', 'tools/infer.py',
                     root / 'a.tif', root / 'b.tif', '--config', config,
                     '--checkpoint', ckpt, '--out', tmp_path / 'c.tif',
                     '--polygons', tmp_path / 'c.gpkg', '--label',
                     root / 'label.tif', '--tile', 64, '--overlap', 16)
    # 9 tiles, reported a batch (4) at a time: a line at each report.
    assert_tenths(progress_lines(log, 9, 'tiles'), 9, batch=4)
    assert '9 tiles run' in log
    assert_clean(log)


def test_scenes2chips(trained, tmp_path):
    root = trained[0]
    log = run_logged(tmp_path / 'chips.log',
                     'tools/dataset_converters/scenes2chips.py', '--scene',
                     root / 'a.tif', root / 'b.tif', root / 'label.tif',
                     '--out', tmp_path / 'chips', '--size', 10)
    # 13 x 12 chips of 10^2 over 130 x 120 pixels, counted one by one.
    lines = progress_lines(log, 156, 'chips')
    assert_tenths(lines, 156)
    tenths = {int(np.ceil(156 * k / 10)) for k in range(1, 11)}
    assert tenths <= {n for n, _ in lines}  # chips are counted one by one
    assert 'wrote 156 chips' in log
    assert_clean(log)


def test_export_onnx(trained, tmp_path):
    _, config, ckpt, _ = trained
    log = run_logged(tmp_path / 'export.log', 'tools/deploy/export_onnx.py',
                     config, ckpt, tmp_path / 'm.onnx', '--shape', 32, 32)
    assert '"ok": true' in log
    assert_clean(log)


def test_live_bar_on_a_terminal(trained, tmp_path):
    """scenes2chips under a pseudo-terminal: mmengine's bar, redrawn in
    place with ``\\r`` at every chip, up to 156/156."""
    root = trained[0]
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, 'tools/dataset_converters/scenes2chips.py',
         '--scene', root / 'a.tif', root / 'b.tif', root / 'label.tif',
         '--out', tmp_path / 'chips', '--size', '10'],
        cwd=REPO, stdin=child, stdout=child, stderr=child)
    os.close(child)
    out = b''
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(main)
    assert proc.wait(timeout=60) == 0, out[-3000:]
    text = out.decode().replace('\r\n', '\n')  # the terminal's newlines
    assert re.search(r'\r\[>+\] 156/156, [\d.]+ task/s', text), text[-3000:]
    assert text.count('\r[') == 156
    assert not progress_lines(text, 156, 'chips')
