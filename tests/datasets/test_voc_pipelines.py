"""The VOC configs' data pipelines: the tutorials' letterbox and 224 crops."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import seg_plugins  # noqa: F401  (registration)
from seg_plugins.utils.voc_synthetic import make_voc_dataset

SIZES = [(48, 64), (70, 35)]  # (h, w), both smaller than the 224 crop


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    return Path(make_voc_dataset(str(tmp_path_factory.mktemp('voc')),
                                 {'train': 2, 'val': 1}, sizes=SIZES))


def train_set(config, root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(config).train_dataloader.dataset
    cfg.data_root = str(root)
    return DATASETS.build(cfg)


def label_of(root, index):
    path = root / 'SegmentationClass' / f'2007_{index:06d}.png'
    return np.asarray(Image.open(path))


def keep_image_size_open(path, size=(256, 256)):
    """The letterbox of the tutorial "图像分割", verbatim."""
    img = Image.open(path)
    temp = max(img.size)
    mask = Image.new('RGB', (temp, temp), (0, 0, 0))
    mask.paste(img, (0, 0))
    mask = mask.resize(size)
    return mask


@pytest.mark.parametrize('index', [0, 1])
def test_letterbox_matches_keep_image_size_open(voc_root, index):
    data = train_set('configs/unet_strided_voc12.py', voc_root)[index]
    img = data['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]  # RGB
    label = data['data_samples'].gt_sem_seg.data[0].numpy()
    assert img.shape == (256, 256, 3) and label.shape == (256, 256)
    h, w = SIZES[index]
    scale = 256 / max(h, w)
    ch, cw = round(h * scale), round(w * scale)  # content, top-left
    ref = np.asarray(keep_image_size_open(
        voc_root / 'JPEGImages' / f'2007_{index:06d}.jpg'))
    # Same geometry: black padding at the bottom / right, the image scaled
    # by the same factor at the top-left (interpolation differs a little).
    assert not img[ch:].any() and not img[:, cw:].any()
    diff = np.abs(img[:ch, :cw].astype(int) - ref[:ch, :cw].astype(int))
    assert diff.mean() < 8
    # Labels are padded with 255 (ignored), not class 0 as the tutorial's.
    assert (label[ch:] == 255).all() and (label[:, cw:] == 255).all()
    src = label_of(voc_root, index)
    ys = np.minimum((np.arange(ch) + 0.5) / scale, h - 1).astype(int)
    xs = np.minimum((np.arange(cw) + 0.5) / scale, w - 1).astype(int)
    agree = (label[:ch, :cw] == src[ys][:, xs]).mean()
    assert agree > 0.97  # nearest-neighbour resize of the labels


def test_images_smaller_than_the_crop_are_padded_not_dropped(voc_root):
    dataset = train_set('configs/fcn8s_deconv_bn_vgg16_voc12.py', voc_root)
    assert len(dataset) == 2  # the FCN/VOC tutorial would drop both
    for index, (h, w) in enumerate(SIZES):
        data = dataset[index]
        img = data['inputs'].numpy()
        label = data['data_samples'].gt_sem_seg.data[0].numpy()
        assert img.shape == (3, 224, 224) and label.shape == (224, 224)
        np.testing.assert_array_equal(label[:h, :w], label_of(voc_root,
                                                              index))
        assert (label[h:] == 255).all() and (label[:, w:] == 255).all()
        assert not img[:, h:].any() and not img[:, :, w:].any()
