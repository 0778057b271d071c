"""Change detection end to end: train -> test (--show-dir) -> infer."""
import re

import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample
from PIL import Image

from seg_plugins.apis import infer_change, init_change_model, tile_windows
from seg_plugins.utils.image_io import read_image
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
                   '--out', base / 'preds', '--cfg-options',
                   *options(base / 'data'))
    line = re.search(r'metrics: (.*)', out).group(1)
    for key in ('Precision', 'Recall', 'F1', 'IoU', 'OA', 'Kappa',
                'best_F1', 'best_threshold'):
        assert f'{key}=' in line
    # --out: one 0/255 change map per test pair, the ones that were scored.
    preds = sorted((base / 'preds').glob('*.png'))
    assert [p.name for p in preds] == [f'test_{i:04d}.png' for i in range(4)]
    maps = np.stack([np.asarray(Image.open(p)) for p in preds])
    assert maps.shape == (4, 32, 32) and set(np.unique(maps)) <= {0, 255}
    tp, fp = map(int, re.search(r'tp=(\d+) fp=(\d+)', out).groups())
    assert int((maps == 255).sum()) == tp + fp
    panels = sorted((base / 'show').rglob('*.png'))
    assert len(panels) == 4
    panel = np.asarray(Image.open(panels[0]))
    assert panel.shape == (32, 4 * 32, 3)  # A | B | GT | prediction
    a = np.asarray(Image.open(base / 'data/test/A/test_0000.png'))
    np.testing.assert_array_equal(panel[:, :32], a)


def test_test_time_augmentation(trained):
    base, work = trained
    out = run_tool('tools/test.py', CONFIG, work / 'iter_4.pth', '--tta',
                   '--work-dir', base / 'tta', '--cfg-options',
                   *options(base / 'data'))
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    tp, fp, fn, tn = map(int, counts.groups())
    assert tp + fp + fn + tn == 4 * 32 * 32
    # Upstream's double sigmoid would call every pixel changed (tn == 0).
    assert tn > 0


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
    out = run_tool('tools/train.py', 'configs/changedet_unet.py',
                   '--work-dir', tmp_path / 'w', '--cfg-options',
                   f'train_dataloader.dataset.data_root={tmp_path}/levir_cd',
                   expect_fail=True)
    assert 'levir_cd/train/A not found' in out
    assert 'levircd.py' in out and 'Traceback' not in out


def test_two_class_softmax_head_from_config(trained, tmp_path):
    base, _ = trained
    data = base / 'data'
    opts = [o.replace('max_iters=4', 'max_iters=2') for o in options(data)]
    out = run_tool('tools/train.py', 'configs/changedet_unet_softmax.py',
                   '--work-dir', tmp_path, '--cfg-options', *opts,
                   f'test_dataloader.dataset.data_root={data}')
    assert 'loss_ce' in out and 'F1' in out
    out = run_tool('tools/test.py', 'configs/changedet_unet_softmax.py',
                   tmp_path / 'iter_2.pth', '--work-dir', tmp_path / 't',
                   '--cfg-options', *opts)
    assert re.search(r'metrics: .*best_F1=', out)


def test_mmseg_levircd_converter_output_loads(tmp_path):
    """mmseg's own tiler (documented for LEVIR-CD) writes what the dataset
    reads: 0/1 labels and traceable crop names."""
    import os

    import mmseg
    rng = np.random.default_rng(1)
    src = tmp_path / 'LEVIR-CD'
    for folder in ('A', 'B', 'label'):
        (src / 'train' / folder).mkdir(parents=True)
    img = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    label = np.where(rng.random((512, 512)) < 0.1, 255, 0).astype(np.uint8)
    Image.fromarray(img).save(src / 'train/A/train_1.png')
    Image.fromarray(img[::-1]).save(src / 'train/B/train_1.png')
    Image.fromarray(label).convert('RGB').save(src / 'train/label/train_1.png')
    tool = os.path.join(os.path.dirname(mmseg.__file__),
                        '.mim/tools/dataset_converters/levircd.py')
    run_tool(tool, '--dataset_path', src, '-o', tmp_path / 'levir_cd')
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    ds = DATASETS.build(dict(
        type='BiTemporalChangeDataset', data_root=str(tmp_path / 'levir_cd'),
        split='train', pipeline=[dict(type='LoadImagePairFromFile'),
                                 dict(type='LoadChangeLabel')]))
    assert len(ds) == 4
    sample = ds[0]
    assert sample['img_path'].endswith('train_1_0_0_256_256.png')
    np.testing.assert_array_equal(sample['gt_seg_map'],
                                  label[:256, :256] // 255)


def test_metric_over_two_processes_equals_one(trained, tmp_path):
    """ChangeMetric sums confusion counts across ranks: the same numbers
    whether the test split is evaluated by one process or two."""
    from tests.conftest import run_cmd
    base, work = trained
    ckpt = work / 'iter_4.pth'
    opts = ['--cfg-options', *options(base / 'data')]
    single = run_tool('tools/test.py', CONFIG, ckpt, '--work-dir',
                      tmp_path / 'one', *opts)
    double = run_cmd(['bash', 'tools/dist_test.sh', CONFIG, ckpt, '2',
                      '--work-dir', tmp_path / 'two', *opts],
                     env={'PORT': '29531'})

    def metrics(out):
        return re.search(r'metrics: (.*)', out).group(1)

    assert metrics(double) == metrics(single)
    assert 'World size: 2' in double or 'Distributed training: True' in double
