"""FCN-8s and the strided-conv U-Net on a tiny VOC-format dataset, end to end
through tools/train.py and tools/test.py."""
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seg_plugins.utils.voc_synthetic import make_voc_dataset
from tests.conftest import REPO, run_tool

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    # Sizes not divisible by 32, one image smaller than nothing else.
    return Path(make_voc_dataset(str(tmp_path_factory.mktemp('voc')),
                                 {'train': 4, 'val': 2},
                                 sizes=[(48, 64), (40, 56), (64, 45)]))


def common_options(root, seg_dir='SegmentationClass'):
    opts = []
    for loader in LOADERS:
        opts += [f'{loader}.dataset.data_root={root}',
                 f'{loader}.dataset.data_prefix.seg_map_path={seg_dir}',
                 f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    return opts + [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'custom_hooks.0.interval=1'
    ]


def with_tensorboard(config, tmp_path):
    """A user config over ``config`` that adds TensorBoard logging."""
    path = tmp_path / f'tb_{Path(config).name}'
    path.write_text(
        f"_base_ = ['{Path(config).resolve()}']\n"
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')])\n")
    return path


FCN8S_SMALL = [
    # No download in tests; a 64-channel fc6/fc7 keeps it fast on CPU.
    'model.backbone.init_cfg=None', 'model.backbone.fc_channels=64',
    'model.decode_head.in_channels=[256,512,64]',
    'model.decode_head.channels=64'
]
UNET_SMALL = [
    'model.backbone.base_channels=8', 'model.decode_head.in_channels=8',
    'model.decode_head.channels=8',
    # letterbox to 64 instead of 256 (Resize and Pad of the pipelines)
    'train_dataloader.dataset.pipeline.2.scale=(64,64)',
    'train_dataloader.dataset.pipeline.3.size=(64,64)',
    'val_dataloader.dataset.pipeline.1.scale=(64,64)',
    'test_dataloader.dataset.pipeline.1.scale=(64,64)'
]


def check_training_outputs(work):
    assert (work / 'iter_2.pth').is_file()
    assert list(work.glob('best_mIoU_iter_2.pth'))
    assert (work / 'last_checkpoint').read_text().strip().endswith(
        'iter_2.pth')
    strips = sorted(work.glob('*/vis_data/vis_image/train_strips_*.png'))
    assert [p.name for p in strips] == ['train_strips_1.png',
                                        'train_strips_2.png']
    assert list(work.glob('*/vis_data/events.out.tfevents.*'))
    return strips


def check_test(config, work, root, tmp_path, extra=(), flags=(),
               name='test'):
    """tools/test.py prints the three metrics and writes predictions at
    the size of their images; ``flags`` go before ``--cfg-options``."""
    preds_dir = tmp_path / f'{name}_preds'
    out = run_tool('tools/test.py', config, work / 'iter_2.pth', *flags,
                   '--work-dir', tmp_path / name, '--out', preds_dir,
                   '--cfg-options',
                   f'test_dataloader.dataset.data_root={root}',
                   'test_dataloader.num_workers=0',
                   'test_dataloader.persistent_workers=False', *extra)
    metrics = dict(re.findall(r'(aAcc|mIoU|mAcc)=([0-9.]+)', out))
    assert set(metrics) == {'aAcc', 'mIoU', 'mAcc'}, out[-2000:]
    assert all(0.0 <= float(v) <= 100.0 for v in metrics.values())
    preds = sorted(preds_dir.glob('*.png'))
    assert [p.stem for p in preds] == ['2007_000004', '2007_000005']
    # Predictions at the size of their images (56 x 40, 45 x 64).
    sizes = [Image.open(p).size for p in preds]
    assert sizes == [(56, 40), (45, 64)]


def test_fcn8s_train_and_test(voc_root, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py',
             with_tensorboard('configs/fcn8s_vgg16_voc12.py', tmp_path),
             '--work-dir', work, '--cfg-options', *common_options(voc_root),
             *FCN8S_SMALL, 'train_dataloader.batch_size=2')
    strips = check_training_outputs(work)
    # Batch 2 of images of different sizes, padded to the larger one: two
    # rows of image | label | prediction.
    h, w, _ = np.asarray(Image.open(strips[0])).shape
    assert h in (2 * 48, 2 * 64) and w in (3 * 56, 3 * 64), (h, w)
    check_test('configs/fcn8s_vgg16_voc12.py', work, voc_root, tmp_path,
               FCN8S_SMALL)
    # mmseg's VOC test-time augmentation (six scales x flip) with colour
    # labels loaded inside TestTimeAug.
    # The fixture's images scaled by 0.5 are below VGG16's 32 pixels:
    # padded at test time, as the backbone's error message suggests.
    check_test('configs/fcn8s_vgg16_voc12.py', work, voc_root, tmp_path,
               [*FCN8S_SMALL, 'model.data_preprocessor.test_cfg.size_divisor'
                '=32'], flags=['--tta'], name='tta')


def test_unet_strided_voc12_rgb_labels_train_and_test(voc_root, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py',
             with_tensorboard('configs/unet_strided_voc12.py', tmp_path),
             '--work-dir', work, '--cfg-options',
             *common_options(voc_root, 'SegmentationClassRGB'), *UNET_SMALL)
    strips = check_training_outputs(work)
    # Batch 2 letterboxed to 64: two rows of three 64x64 panels.
    strip = np.asarray(Image.open(strips[-1]))
    assert strip.shape == (128, 192, 3)
    # The label panel is white (255, ignored) in the letterbox padding: the
    # images are wider or taller than high, never square.
    labels = strip[:, 64:128]
    assert (labels == 255).all(axis=2).any()
    rgb_labels = [
        *UNET_SMALL, 'test_dataloader.dataset.data_prefix.seg_map_path='
        'SegmentationClassRGB'
    ]
    check_test('configs/unet_strided_voc12.py', work, voc_root, tmp_path,
               rgb_labels)
    # --tta: the letterbox scale, plain and flipped.
    check_test('configs/unet_strided_voc12.py', work, voc_root, tmp_path,
               rgb_labels, flags=['--tta'], name='tta')


def test_own_classes_config_from_the_guide(tmp_path):
    """The FCN/VOC guide's "own classes" config, as written there, on two
    classes with colours of their own."""
    root = tmp_path / 'mine'
    for d in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        label = np.zeros((64, 64, 3), np.uint8)
        label[8 * i:8 * i + 24, 10:40] = (255, 0, 0)
        img[label[..., 0] > 0] = 250  # a bright "building"
        Image.fromarray(img).save(root / 'JPEGImages' / f'm{i}.jpg')
        Image.fromarray(label).save(root / 'SegmentationClass' / f'm{i}.png')
    split = root / 'ImageSets/Segmentation'
    (split / 'train.txt').write_text('m0\nm1\nm2\n')
    (split / 'val.txt').write_text('m3\n')
    guide = (REPO / 'docs/en/user_guides/fcn_voc.md').read_text()
    snippet = guide.split("## Your own classes in VOC's layout")[1]
    snippet = snippet.split('```python\n')[1].split('```')[0]
    config = tmp_path / 'mine.py'
    config.write_text(
        snippet.replace('/path/to/seg_plugins', str(REPO)).replace(
            'data/mine', str(root)))
    out = run_tool(
        'tools/train.py', config, '--work-dir', tmp_path / 'work',
        '--cfg-options', *[o for o in common_options(root)
                           if 'data_root' not in o], *UNET_SMALL)
    # The per-class table has exactly the two classes, and 'building' pixels
    # were decoded (its accuracy is a number; nan had they all become 255).
    table = re.findall(r'^\|\s*(\w+)\s*\|\s*\S+\s*\|\s*(\S+)\s*\|$', out,
                       re.M)
    acc = {name: value for name, value in table if name != 'Class'}
    assert set(acc) == {'background', 'building'}, out[-3000:]
    assert acc['building'] != 'nan'
