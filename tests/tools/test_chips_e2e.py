"""Training from scenes end to end: a 4-band uint16 scene pair ->
scenes2chips.py (GeoTIFF chips) -> tools/train.py with the 4-band config ->
tools/test.py; and 3-band uint8 PNG chips that load like GeoTIFF ones."""
import re

import numpy as np
import pytest

from seg_plugins.utils.synthetic_scene import write_scene_pair
from tests.conftest import run_tool

CONFIG = 'configs/changedet_unet_4band_uint16.py'
CHIPS = 'tools/dataset_converters/scenes2chips.py'


def options(root, max_iters=4):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                'model.backbone.base_channels=4',
                'model.backbone.num_stages=3',
                'model.decode_head.in_channels=4',
                f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2',
                'default_hooks.logger.interval=1',
                'train_dataloader.batch_size=4',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False',
                'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False'
            ]


@pytest.fixture(scope='module')
def chips4(tmp_path_factory):
    base = tmp_path_factory.mktemp('chips4')
    scene = write_scene_pair(str(base / 'scene'), 256, bands=4,
                             dtype='uint16', seed=6)
    out = run_tool(CHIPS, '--scene', scene['a'], scene['b'], scene['label'],
                   '--out', base / 'chips', '--size', 64,
                   '--val-fraction', 0.2, '--test-fraction', 0.2)
    assert re.search(r'wrote \d+ chips .*train \d+, val \d+, test \d+', out)
    return base


def test_four_band_uint16_trains_and_tests_from_chips(chips4):
    work = chips4 / 'work'
    out = run_tool('tools/train.py', CONFIG, '--work-dir', work,
                   '--cfg-options', *options(chips4 / 'chips'))
    assert 'loss_bce' in out and 'F1' in out
    out = run_tool('tools/test.py', CONFIG, work / 'iter_4.pth',
                   '--work-dir', chips4 / 'test', '--cfg-options',
                   *options(chips4 / 'chips'))
    line = re.search(r'metrics: (.*)', out).group(1)
    assert 'F1=' in line and 'best_F1=' in line
    # Every scored pixel is a valid one: nodata (label 255) is left out.
    import rasterio
    labels = [rasterio.open(p).read(1)
              for p in sorted((chips4 / 'chips/test/label').glob('*.tif'))]
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    assert sum(map(int, counts.groups())) == sum(
        int((lab != 255).sum()) for lab in labels)


def test_four_band_batch_reaches_the_model_in_digital_numbers(chips4):
    """uint16 through mmseg's transforms and the 4-entry preprocessor:
    (DN - mean) / std per band, both dates, nothing clipped to uint8."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS, MODELS

    import seg_plugins  # noqa: F401
    init_default_scope('mmseg')
    cfg = Config.fromfile(CONFIG)
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(chips4 / 'chips')
    ds = DATASETS.build(ds_cfg)
    sample = ds[0]
    inputs = sample['inputs']
    assert inputs.dtype == torch.uint16 and inputs.shape[0] == 8
    assert float(inputs.float().max()) > 255  # torch has no max for uint16
    pre = MODELS.build(cfg.model.data_preprocessor)
    batch = pre(dict(inputs=[inputs], data_samples=[sample['data_samples']]),
                training=True)
    mean = torch.tensor(cfg.mean * 2).view(8, 1, 1)
    std = torch.tensor(cfg.std * 2).view(8, 1, 1)
    h, w = inputs.shape[1:]
    np.testing.assert_allclose(batch['inputs'][0, :, :h, :w].numpy(),
                               ((inputs.float() - mean) / std).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_png_chips_of_a_three_band_scene_load_like_geotiff_chips(tmp_path):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import seg_plugins  # noqa: F401
    from seg_plugins.geo.chips import ChipOptions
    from seg_plugins.geo.chips_dataset import write_chip_dataset
    init_default_scope('mmseg')
    scene = write_scene_pair(str(tmp_path / 'scene'), (192, 160), seed=8)
    samples = {}
    for fmt in ('png', 'tif'):
        # In this process (what scenes2chips runs): a subprocess costs
        # 10 s of imports.
        write_chip_dataset([(scene['a'], scene['b'], scene['label'])],
                           tmp_path / fmt, ChipOptions(size=64, fmt=fmt),
                           val_fraction=0)
        suffix = dict(img_suffix=f'.{fmt}', img_suffix2=f'.{fmt}',
                      seg_map_suffix=f'.{fmt}')
        ds = DATASETS.build(dict(
            type='BiTemporalChangeDataset', data_root=str(tmp_path / fmt),
            split='train', pipeline=[dict(type='LoadImagePairFromFile'),
                                     dict(type='LoadChangeLabel')],
            **suffix))
        samples[fmt] = [ds[i] for i in range(len(ds))]
    assert len(samples['png']) == len(samples['tif']) > 2
    for png, tif in zip(samples['png'], samples['tif']):
        np.testing.assert_array_equal(png['img'], tif['img'])
        np.testing.assert_array_equal(png['img2'], tif['img2'])
        # PNG has no nodata: ignored pixels of the GeoTIFF label are 0.
        np.testing.assert_array_equal(
            png['gt_seg_map'], np.where(tif['gt_seg_map'] == 255, 0,
                                        tif['gt_seg_map']))
    assert any((s['gt_seg_map'] == 255).any() for s in samples['tif'])
