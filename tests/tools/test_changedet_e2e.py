"""Change detection end to end: train -> test (--show-dir) -> infer."""
import re

import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample
from PIL import Image

from seg_plugins.apis import infer_change, init_change_model, tile_windows
from seg_plugins.datasets.transforms.loading_pair import read_image
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, run_tool

CONFIG = 'configs/changedet_demo.py'


def options(root, max_iters=4):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2',
                'default_hooks.logger.interval=1',
                'train_dataloader.batch_size=4',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False'
            ]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp('cd')
    data = make_change_dataset(str(base / 'data'),
                               {'train': 8, 'val': 4, 'test': 4}, size=32,
                               seed=5)
    work = base / 'work'
    out = run_tool('tools/train.py', CONFIG, '--work-dir', work,
                   '--cfg-options', *options(data))
    assert 'F1' in out
    return base, work


def test_train_saves_best_by_f1(trained):
    _, work = trained
    assert list(work.glob('best_F1_iter_*.pth'))
    ckpt = torch.load(work / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['dataset_meta']['classes'] == ('unchanged',
                                                       'changed')


def test_test_tool_reports_change_metrics_and_draws_panels(trained):
    base, work = trained
    out = run_tool('tools/test.py', CONFIG, work / 'iter_4.pth',
                   '--work-dir', base / 'test', '--show-dir', base / 'show',
                   '--cfg-options', *options(base / 'data'))
    line = re.search(r'metrics: (.*)', out).group(1)
    for key in ('Precision', 'Recall', 'F1', 'IoU', 'OA', 'Kappa',
                'best_F1', 'best_threshold'):
        assert f'{key}=' in line
    panels = sorted((base / 'show').rglob('*.png'))
    assert len(panels) == 4
    panel = np.asarray(Image.open(panels[0]))
    assert panel.shape == (32, 4 * 32, 3)  # A | B | GT | prediction
    a = np.asarray(Image.open(base / 'data/test/A/test_0000.png'))
    np.testing.assert_array_equal(panel[:, :32], a)


def test_infer_tool_on_a_pair_larger_than_the_tile(trained, tmp_path):
    base, work = trained
    rng = np.random.default_rng(0)
    big = [rng.integers(0, 256, (80, 72, 3), dtype=np.uint8) for _ in 'ab']
    for name, img in zip('ab', big):
        Image.fromarray(img).save(tmp_path / f'{name}.png')
    out = run_tool('tools/infer.py', tmp_path / 'a.png', tmp_path / 'b.png',
                   '--config', REPO / CONFIG, '--checkpoint',
                   work / 'iter_4.pth', '--out', tmp_path / 'change.png',
                   '--overlay', tmp_path / 'overlay.png', '--prob',
                   tmp_path / 'prob.png', '--tile', '32', '--overlap', '8')
    assert 'pixels changed' in out
    change = np.asarray(Image.open(tmp_path / 'change.png'))
    assert change.shape == (80, 72)
    assert set(np.unique(change)) <= {0, 255}
    assert np.asarray(Image.open(tmp_path / 'overlay.png')).shape == (80, 72,
                                                                     3)


def test_single_tile_equals_mmseg_whole_image_inference(trained):
    base, work = trained
    model = init_change_model(str(REPO / CONFIG), str(work / 'iter_4.pth'))
    a = str(base / 'data/test/A/test_0001.png')
    b = str(base / 'data/test/B/test_0001.png')
    change, _ = infer_change(model, a, b, tile=64)
    pair = np.concatenate([read_image(a, 'color'), read_image(b, 'color')], 2)
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32),
                                         ori_shape=(32, 32)))
    ref = model.test_step(dict(
        inputs=[torch.from_numpy(pair.transpose(2, 0, 1).copy())],
        data_samples=[sample]))[0]
    np.testing.assert_array_equal(change, ref.pred_sem_seg.data[0].numpy())


@pytest.mark.parametrize('h,w,tile,overlap', [(80, 72, 32, 8), (33, 100, 32,
                                                                  0),
                                             (20, 20, 32, 8)])
def test_tile_cores_partition_the_image(h, w, tile, overlap):
    cover = np.zeros((h, w), int)
    for rows, cols, core_r, core_c in tile_windows(h, w, tile, overlap):
        assert rows.stop - rows.start == min(tile, h)
        assert rows.start <= core_r.start and core_r.stop <= rows.stop
        assert cols.start <= core_c.start and core_c.stop <= cols.stop
        cover[core_r, core_c] += 1
    np.testing.assert_array_equal(cover, 1)


def test_headline_config_without_data_says_how_to_prepare_it(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/changedet_unet.py',
         '--work-dir', str(tmp_path / 'w'), '--cfg-options',
         f'train_dataloader.dataset.data_root={tmp_path}/levir_cd'],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'levir_cd/train/A not found' in proc.stderr
    assert 'levircd.py' in proc.stderr and 'Traceback' not in proc.stderr
