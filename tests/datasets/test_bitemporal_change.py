import numpy as np
import pytest
from mmseg.registry import DATASETS

import seg_plugins  # noqa: F401
from tests.cd_fixture import coded_pair, write_pair

PIPELINE = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
]

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def build(root, **kwargs):
    cfg = dict(type='BiTemporalChangeDataset', data_root=str(root),
               split='train', pipeline=PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_levir_layout_loads_and_binarises_0_255(tmp_path):
    img_a, img_b, label = coded_pair(16, 24)
    write_pair(tmp_path, 'train', 'b', img_a, img_b, label)
    write_pair(tmp_path, 'train', 'a', img_a, img_b, label // 255)  # 0/1
    ds = build(tmp_path)
    assert len(ds) == 2
    assert ds.metainfo['classes'] == ('unchanged', 'changed')
    for i in range(2):
        out = ds[i]
        assert out['img'].shape == out['img2'].shape == (16, 24, 3)
        np.testing.assert_array_equal(out['gt_seg_map'], label // 255)
    names = [ds.get_data_info(i)['img_path'][-5:] for i in range(2)]
    assert names == ['a.png', 'b.png']


def test_s2looking_and_cdd_presets(tmp_path):
    img_a, img_b, label = coded_pair(16, 16)
    write_pair(tmp_path / 's2', 'train', 'x', img_a, img_b, label,
               folders=('Image1', 'Image2', 'label'))
    assert len(build(tmp_path / 's2', layout='s2looking')) == 1
    noisy = np.where(label > 0, 240, 12).astype(np.uint8)  # JPEG-like
    write_pair(tmp_path / 'cdd', 'train', 'x', img_a, img_b, noisy,
               folders=('A', 'B', 'OUT'), suffix='.jpg')
    out = build(tmp_path / 'cdd', layout='cdd')[0]
    assert set(np.unique(out['gt_seg_map'])) <= {0, 1}


def test_split_list_file(tmp_path):
    img_a, img_b, label = coded_pair(8, 8)
    for name in ('p', 'q', 'r'):
        write_pair(tmp_path, 'train', name, img_a, img_b, label)
    (tmp_path / 'list.txt').write_text('r\nq.png\n')
    ds = build(tmp_path, ann_file='list.txt')
    names = [ds.get_data_info(i)['img_path'][-5:] for i in range(len(ds))]
    assert names == ['r.png', 'q.png']


def test_missing_split_list_is_an_error_not_every_pair(tmp_path):
    img_a, img_b, label = coded_pair(8, 8)
    write_pair(tmp_path, 'train', 'p', img_a, img_b, label)
    with pytest.raises(FileNotFoundError,
                       match=r'ann_file .*lsit\.txt not found'):
        build(tmp_path, ann_file='lsit.txt')


def test_unlabelled_pairs_with_a_label_loader_are_a_clear_error(tmp_path):
    img_a, img_b, label = coded_pair(8, 8)
    write_pair(tmp_path, 'train', 'p', img_a, img_b, label)
    ds = build(tmp_path, data_prefix=dict(img_path='train/A',
                                          img_path2='train/B'))
    assert ds.get_data_info(0)['seg_map_path'] is None
    with pytest.raises(ValueError, match=r'A/p\.png has no change label'):
        ds[0]


def test_pair_of_different_sizes_names_both_files(tmp_path):
    img_a, img_b, label = coded_pair(16, 16)
    write_pair(tmp_path, 'train', 'x', img_a, img_b[:8], label)
    with pytest.raises(ValueError, match=r'A/x\.png.*B/x\.png'):
        build(tmp_path)[0]


def test_unpaired_files_are_all_listed(tmp_path):
    img_a, img_b, label = coded_pair(8, 8)
    for name in ('ok', 'no_b1', 'no_b2', 'no_label'):
        write_pair(tmp_path, 'train', name, img_a, img_b, label)
    for name in ('no_b1', 'no_b2'):
        (tmp_path / 'train' / 'B' / f'{name}.png').unlink()
    (tmp_path / 'train' / 'label' / 'no_label.png').unlink()
    with pytest.raises(ValueError) as err:
        build(tmp_path)
    msg = str(err.value)
    assert 'no_b1, no_b2' in msg and 'train/B' in msg
    assert 'no_label' in msg and 'train/label' in msg


def test_label_of_another_size_names_both_files(tmp_path):
    img_a, img_b, label = coded_pair(16, 16)
    write_pair(tmp_path, 'train', 'x', img_a, img_b, label[:8])
    with pytest.raises(ValueError,
                       match=r'label/x\.png is 8x16 .* image .*A/x\.png is '
                       r'16x16'):
        build(tmp_path)[0]


def test_bad_label_values_are_an_error(tmp_path):
    img_a, img_b, _ = coded_pair(8, 8)
    label = np.full((8, 8), 7, np.uint8)
    label[0, 0] = 0
    write_pair(tmp_path, 'train', 'x', img_a, img_b, label)
    with pytest.raises(ValueError, match=r'label/x\.png has values \[0, 7\]'):
        build(tmp_path)[0]


def test_unreadable_image_is_named(tmp_path):
    img_a, img_b, label = coded_pair(8, 8)
    write_pair(tmp_path, 'train', 'x', img_a, img_b, label)
    (tmp_path / 'train' / 'B' / 'x.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match=r'cannot decode image .*B/x\.png'):
        build(tmp_path)[0]


def test_missing_and_empty_split_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'train/A not found.*levircd'):
        build(tmp_path)
    for folder in ('A', 'B', 'label'):
        (tmp_path / 'train' / folder).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r'train/A is empty'):
        build(tmp_path)
