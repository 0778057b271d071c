"""Colour-coded VOC labels: decoding, loading, checks on bad input."""
import logging
import os.path as osp
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmseg.datasets import PascalVOCDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image

import seg_plugins  # noqa: F401  (registration)
from seg_plugins.datasets.transforms.color_label import (
    VOC_PALETTE,
    PaletteDecoder,
)
from seg_plugins.utils.voc_synthetic import make_voc_dataset, voc_colormap

SIZES = [(48, 64), (37, 29), (64, 40)]


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    return Path(make_voc_dataset(str(tmp_path_factory.mktemp('voc')),
                                 {'train': 6, 'val': 3}, sizes=SIZES))


def reference_decode(rgb, palette, ignore_colors=(), ignore_index=255):
    """Pixel by pixel, with a dict: what the decoder must compute."""
    table = {tuple(c): i for i, c in enumerate(palette)}
    table.update({tuple(c): ignore_index for c in ignore_colors})
    flat = rgb.reshape(-1, 3)
    out = [table.get(tuple(int(v) for v in px), ignore_index) for px in flat]
    return np.array(out, np.uint8).reshape(rgb.shape[:2])


def load(transform, seg_map_path, ori_shape=None):
    results = dict(seg_map_path=str(seg_map_path), reduce_zero_label=False,
                   seg_fields=[])
    if ori_shape is not None:
        results.update(ori_shape=ori_shape, img_path='<img>')
    return transform(results)['gt_seg_map']


def test_rgb_labels_decode_like_mmseg_reads_palette_pngs(voc_root):
    ours = TRANSFORMS.build(dict(type='LoadColorAnnotations'))
    upstream = LoadAnnotations()
    names = (voc_root / 'ImageSets/Segmentation/train.txt').read_text()
    seen = set()
    for name in names.split():
        p_png = voc_root / 'SegmentationClass' / f'{name}.png'
        rgb_png = voc_root / 'SegmentationClassRGB' / f'{name}.png'
        assert Image.open(p_png).mode == 'P'
        assert Image.open(rgb_png).mode == 'RGB'
        expected = load(upstream, p_png)
        decoded = load(ours, rgb_png)
        assert decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, expected)
        # Palette PNGs go through the same transform unchanged.
        np.testing.assert_array_equal(load(ours, p_png), expected)
        seen |= set(np.unique(expected).tolist())
    assert {0, 7, 15, 255} <= seen  # objects and VOC's border were decoded


@pytest.mark.parametrize('channel_order', ['rgb', 'bgr'])
def test_voc_decoder_matches_reference_with_unknown_colours(channel_order):
    decoder = PaletteDecoder(VOC_PALETTE, [(224, 224, 192)])
    assert decoder.fast and decoder.nbytes <= 2048
    rng = np.random.default_rng(0)
    colors = np.concatenate([
        np.array(VOC_PALETTE), [[224, 224, 192]],
        # near misses: one channel of a palette colour changed
        [[128, 0, 1], [64, 64, 64], [0, 192, 128], [10, 20, 30]]
    ]).astype(np.uint8)
    rgb = colors[rng.integers(0, len(colors), (37, 53))]
    expected = reference_decode(rgb, VOC_PALETTE, [(224, 224, 192)])
    img = rgb[..., ::-1] if channel_order == 'bgr' else rgb
    np.testing.assert_array_equal(
        decoder.decode(img, channel_order=channel_order), expected)
    assert (expected == 255).sum() > 0 and len(np.unique(expected)) == 22


def test_large_palette_falls_back_and_matches_reference():
    rng = np.random.default_rng(1)
    palette = rng.choice(256**3, 60, replace=False)
    palette = np.stack([palette >> 16, (palette >> 8) & 255, palette & 255],
                       1)
    decoder = PaletteDecoder(palette)
    assert not decoder.fast and decoder.nbytes <= 1024
    colors = np.concatenate([palette, rng.integers(0, 256, (20, 3))])
    rgb = colors[rng.integers(0, len(colors), (31, 47))].astype(np.uint8)
    np.testing.assert_array_equal(decoder.decode(rgb),
                                  reference_decode(rgb, palette.tolist()))


def test_strict_mode_names_file_and_colours(tmp_path):
    rgb = np.zeros((8, 10, 3), np.uint8)
    rgb[0, :3] = (10, 20, 30)
    rgb[1, :2] = (128, 0, 1)
    rgb[2, 0] = (224, 224, 192)  # VOC's border colour is not unknown
    path = tmp_path / 'bad.png'
    Image.fromarray(rgb).save(path)
    lenient = TRANSFORMS.build(dict(type='LoadColorAnnotations'))
    label = load(lenient, path)
    assert (label[:2] == 255).sum() == 5 and label[2, 0] == 255
    strict = TRANSFORMS.build(dict(type='LoadColorAnnotations', strict=True))
    with pytest.raises(ValueError) as err:
        load(strict, path)
    msg = str(err.value)
    assert str(path) in msg and '5 pixels' in msg
    assert '(10, 20, 30) x3' in msg and '(128, 0, 1) x2' in msg
    assert '224' not in msg


def test_unknown_colours_are_warned_about_once_per_file(tmp_path):
    """Not strict: mapped to 255, but a wrong palette is not silent."""
    grey = np.zeros((6, 6, 3), np.uint8)
    grey[:2] = 3  # class 3 saved as (3, 3, 3): an index mask as grey RGB
    path = tmp_path / 'grey.png'
    Image.fromarray(grey).save(path)
    t = TRANSFORMS.build(dict(type='LoadColorAnnotations'))
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()  # what print_log uses
    logger.addHandler(handler)
    try:
        first = load(t, path)
        load(t, path)
    finally:
        logger.removeHandler(handler)
    assert (first[:2] == 255).all() and (first[2:] == 0).all()
    assert len(records) == 1, [r.getMessage() for r in records]
    msg = records[0].getMessage()
    assert str(path) in msg and '12 pixels' in msg
    assert 'r == g == b' in msg and 'strict=True' in msg


def test_custom_palette_and_rgba(tmp_path):
    palette = [(0, 0, 0), (255, 0, 0), (0, 255, 0)]
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0] = (255, 0, 0, 255)
    rgba[1, :2] = (0, 255, 0, 128)  # alpha does not matter
    path = tmp_path / 'rgba.png'
    Image.fromarray(rgba, 'RGBA').save(path)
    t = TRANSFORMS.build(dict(type='LoadColorAnnotations', palette=palette,
                              ignore_colors=()))
    label = load(t, path)
    assert label[0].tolist() == [1] * 5
    assert label[1].tolist() == [2, 2, 0, 0, 0]


def test_palette_validation():
    with pytest.raises(AssertionError, match='listed twice'):
        PaletteDecoder([(0, 0, 0), (1, 2, 3), (1, 2, 3)])
    with pytest.raises(AssertionError, match='ignore_index'):
        PaletteDecoder(VOC_PALETTE, ignore_index=3)


def test_label_of_another_size_is_an_error(voc_root):
    t = TRANSFORMS.build(dict(type='LoadColorAnnotations'))
    path = voc_root / 'SegmentationClassRGB' / '2007_000000.png'
    with pytest.raises(ValueError) as err:
        load(t, path, ori_shape=(50, 64))
    assert str(path) in str(err.value) and '48x64' in str(err.value)
    assert '50x64' in str(err.value)
    assert load(t, path, ori_shape=(48, 64)).shape == (48, 64)


def test_checked_dataset_names_missing_files(tmp_path):
    root = Path(make_voc_dataset(str(tmp_path), {'train': 3}, sizes=SIZES))
    (root / 'SegmentationClass' / '2007_000001.png').unlink()
    with open(root / 'ImageSets/Segmentation/train.txt', 'a') as f:
        f.write('2008_999999\n')
    cfg = dict(data_root=str(root), ann_file='ImageSets/Segmentation/'
               'train.txt', data_prefix=dict(
                   img_path='JPEGImages', seg_map_path='SegmentationClass'))
    # Upstream accepts the split and would fail later in a worker.
    assert len(PascalVOCDataset(**cfg)) == 4
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(dict(type='CheckedVOCDataset', **cfg))
    msg = str(err.value)
    assert '2 name(s)' in msg and 'train.txt' in msg
    assert osp.join('SegmentationClass', '2007_000001.png') in msg
    assert osp.join('JPEGImages', '2008_999999.jpg') in msg
    assert osp.join('SegmentationClass', '2008_999999.png') in msg


def test_checked_dataset_with_classes_of_ones_own(tmp_path, mmseg_scope):
    """VOC's folder layout, two classes and colours of one's own."""
    root = tmp_path / 'own'
    for d in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / d).mkdir(parents=True)
    palette = [[0, 0, 0], [255, 0, 0]]
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:3] = palette[1]
    Image.fromarray(rgb).save(root / 'JPEGImages' / 'a.jpg')
    Image.fromarray(rgb).save(root / 'SegmentationClass' / 'a.png')
    (root / 'ImageSets/Segmentation/train.txt').write_text('a\n')
    cfg = dict(
        type='CheckedVOCDataset', data_root=str(root),
        ann_file='ImageSets/Segmentation/train.txt',
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClass'),
        metainfo=dict(classes=('background', 'building'), palette=palette),
        # No palette here: the dataset hands its own to the transform.
        pipeline=[dict(type='LoadColorAnnotations')])
    # Upstream only takes a subset of VOC's classes.
    with pytest.raises(ValueError, match='not a subset'):
        DATASETS.build(dict(cfg, type='PascalVOCDataset'))
    ds = DATASETS.build(cfg)
    assert ds.metainfo['classes'] == ('background', 'building')
    assert ds.label_map is None
    assert ds.get_data_info(0)['seg_palette'] == [(0, 0, 0), (255, 0, 0)]
    label = ds[0]['gt_seg_map']
    assert (label[:3] == 1).all() and (label[3:] == 0).all()
    # A subset of VOC's classes is still remapped as upstream does it.
    subset = DATASETS.build(dict(cfg, metainfo=dict(
        classes=('background', 'person'))))
    assert subset.label_map[15] == 1 and subset.label_map[1] == 255
    assert 'seg_palette' not in subset.get_data_info(0)  # VOC's colours


def test_voc_colormap_matches_mmseg_palette():
    assert voc_colormap()[:21].tolist() == [list(c) for c in VOC_PALETTE]
    assert voc_colormap()[255].tolist() == [224, 224, 192]
