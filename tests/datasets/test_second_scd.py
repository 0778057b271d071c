import cv2
import numpy as np
import pytest

from seg_plugins.datasets import SECONDDataset
from seg_plugins.datasets.second_scd import SECOND_CLASSES, SECOND_PALETTE
from tests.scd_fixture import coded_scd_pair, write_scd_pair

pytestmark = pytest.mark.usefixtures('mmseg_scope')

LOAD = [dict(type='LoadImagePairFromFile'), dict(type='LoadSCDLabels')]


def dataset(root, pipeline=LOAD, **kwargs):
    return SECONDDataset(data_root=str(root), split='train',
                         pipeline=pipeline, **kwargs)


@pytest.mark.parametrize('rgb', [True, False])
def test_colour_and_index_labels_decode_to_classes(tmp_path, rgb):
    img1, img2, l1, l2 = coded_scd_pair(12, 16, seed=1)
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1, l2, rgb)
    ds = dataset(tmp_path)
    assert len(ds) == 1 and ds.metainfo['classes'][5] == 'building'
    out = ds[0]
    np.testing.assert_array_equal(out['gt_seg_map_from'], l1)
    np.testing.assert_array_equal(out['gt_seg_map_to'], l2)
    np.testing.assert_array_equal(out['gt_seg_map'], l1 > 0)


@pytest.mark.parametrize('seed', range(4))
def test_pair_transforms_move_both_label_maps_with_both_images(
        tmp_path, seed):
    img1, img2, l1, l2 = coded_scd_pair(40, 56, seed=seed)
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1, l2)
    pipeline = LOAD + [
        dict(type='ConcatCDInput'),
        dict(type='RandomRotFlip', rotate_prob=0.0, flip_prob=1.0),
        dict(type='RandomCrop', crop_size=(24, 32)),
        dict(type='RandomFlip', prob=0.5,
             direction=['horizontal', 'vertical']),
        # A turn that no flip undoes: the maps must follow it too.
        dict(type='RandomRotate', prob=1.0, degree=(90, 90), pad_val=0,
             seg_pad_val=255, auto_bound=True),
        dict(type='PackSCDInputs'),
    ]
    np.random.seed(seed)
    out = dataset(tmp_path, pipeline)[0]
    img = out['inputs'].permute(1, 2, 0).numpy()
    sample = out['data_samples']
    np.testing.assert_array_equal(img[..., 0], 0)
    np.testing.assert_array_equal(img[..., 3], 1)
    np.testing.assert_array_equal(img[..., 1:3], img[..., 4:6])
    rows, cols = img[..., 2].astype(int), img[..., 1].astype(int)
    assert rows.shape == (32, 24)
    np.testing.assert_array_equal(sample.gt_sem_seg_from.data[0],
                                  l1[rows, cols])
    np.testing.assert_array_equal(sample.gt_sem_seg_to.data[0],
                                  l2[rows, cols])
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0],
                                  l1[rows, cols] > 0)


def test_unknown_colour_names_file_colour_and_place(tmp_path):
    img1, img2, l1, l2 = coded_scd_pair(8, 8, seed=2)
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1, l2)
    path = tmp_path / 'train/label2/p.png'
    bgr = cv2.imread(str(path))
    bgr[3, 5] = (7, 8, 9)
    cv2.imwrite(str(path), bgr)
    with pytest.raises(ValueError) as e:
        dataset(tmp_path)[0]
    msg = str(e.value)
    assert str(path) in msg and '(9, 8, 7)' in msg
    assert 'row 3, column 5' in msg


@pytest.mark.parametrize('folder', ['label1', 'label2'])
def test_missing_label_map_names_the_pair_and_folder(tmp_path, folder):
    img1, img2, l1, l2 = coded_scd_pair(8, 8)
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1, l2)
    write_scd_pair(tmp_path, 'train', 'q', img1, img2, l1, l2)
    (tmp_path / f'train/{folder}/q.png').unlink()
    with pytest.raises(ValueError) as e:
        dataset(tmp_path)
    assert (f'1 name(s) present but missing from {tmp_path}/train/{folder} '
            '(*.png): q') in str(e.value)


def test_class_count_disagreeing_with_config_names_file(tmp_path):
    img1, img2, l1, l2 = coded_scd_pair(8, 8, num_classes=7)
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1, l2, False)
    ds = dataset(tmp_path, metainfo=dict(
        classes=('unchanged', 'a', 'b'),
        palette=[[0, 0, 0], [1, 1, 1], [2, 2, 2]]))
    with pytest.raises(ValueError, match=r'label1/p.png holds class 6 but '
                       r'the config lists 3 classes'):
        ds[0]


def test_colour_of_a_class_the_config_does_not_list_names_file(tmp_path):
    """SECOND's RGB labels, a config listing its first four classes only:
    the building colour is unknown to it."""
    img1, img2, l1, l2 = coded_scd_pair(8, 8, seed=3)
    l2 = l2 % 4
    l2[2, 6] = 5  # building
    write_scd_pair(tmp_path, 'train', 'p', img1, img2, l1 % 4, l2)
    ds = dataset(tmp_path, metainfo=dict(classes=SECOND_CLASSES[:4],
                                         palette=SECOND_PALETTE[:4]))
    with pytest.raises(ValueError) as e:
        ds[0]
    msg = str(e.value)
    assert str(tmp_path / 'train/label2/p.png') in msg
    assert '(128, 0, 0)' in msg and 'row 2, column 6' in msg
    assert 'The 4 colours of the config' in msg
