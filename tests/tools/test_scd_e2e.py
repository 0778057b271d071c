"""Semantic change end to end: the synthetic SECOND-layout set (RGB colour
labels) through tools/train.py and tools/test.py --out."""
import re

import numpy as np
from PIL import Image

from seg_plugins.datasets.second_scd import SECOND_PALETTE
from seg_plugins.datasets.synthetic_scd import make_scd_dataset
from tests.conftest import demo_options, run_tool


def test_scd_demo_trains_tests_and_writes_palette_maps(tmp_path):
    data = tmp_path / 'scd'
    make_scd_dataset(str(data), {'train': 4, 'test': 2}, size=32)
    work = tmp_path / 'work'
    opts = demo_options(data, 2) + ['train_dataloader.num_workers=0',
                                    'train_dataloader.persistent_workers='
                                    'False']
    out = run_tool('tools/train.py', 'configs/scd_demo.py', '--work-dir',
                   work, '--cfg-options', *opts)
    assert list(work.glob('best_SeK_iter_*.pth')), out[-2000:]
    preds = tmp_path / 'preds'
    out = run_tool('tools/test.py', 'configs/scd_demo.py',
                   work / 'iter_2.pth', '--work-dir', tmp_path / 'w',
                   '--out', preds, '--cfg-options',
                   f'test_dataloader.dataset.data_root={data}')
    line = re.search(r'^metrics: .*$', out, re.M)
    assert line, out[-2000:]
    for key in ('SeK', 'Fscd', 'mIoU', 'OA', 'IoU_c', 'Pscd', 'Rscd'):
        value = re.search(rf'\b{key}=([-0-9.]+)', line.group(0))
        assert value and -100 <= float(value.group(1)) <= 100, (key, line)
    for sub in ('label1', 'label2'):
        names = sorted(p.name for p in (preds / sub).glob('*.png'))
        assert names == ['0000.png', '0001.png']
        img = Image.open(preds / sub / names[0])
        assert img.mode == 'P' and img.size == (32, 32)
        assert np.array(img).max() <= 6
        assert img.getpalette()[:21] == sum(SECOND_PALETTE, [])
