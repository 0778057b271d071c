"""PennFudanDataset (mmdet) and PennFudanSemanticDataset (mmseg) on a tiny
dataset in the release's layout, against the tutorial's reference loader."""
import json
import os
import shutil
import sys

import numpy as np
import pycocotools.mask as mask_util
import pytest
from mmdet.registry import DATASETS as DET_DATASETS
from mmdet.structures.mask import BitmapMasks
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS as SEG_DATASETS
from PIL import Image

import seg_plugins  # noqa: F401  (registers the datasets)
from seg_plugins.datasets.pennfudan_io import split_names
from tests.conftest import REPO, run_tool
from tests.pennfudan_fixture import DEFAULT_SPECS, stem_of, write_pennfudan


@pytest.fixture(scope='module')
def pf_root(tmp_path_factory):
    return write_pennfudan(tmp_path_factory.mktemp('PennFudanPed'))


def reference_target(root, stem):
    """The ``PennFudanDataset.__getitem__`` of the tutorial "图像分割" (from
    torchvision's "TorchVision Object Detection Finetuning Tutorial"), in
    numpy: boxes from ``np.where`` on each instance mask."""
    mask = np.array(Image.open(os.path.join(root, 'PedMasks',
                                            stem + '_mask.png')))
    obj_ids = np.unique(mask)
    obj_ids = obj_ids[1:]  # first id is the background
    masks = mask == obj_ids[:, None, None]
    boxes = []
    for i in range(len(obj_ids)):
        pos = np.where(masks[i])
        boxes.append([
            np.min(pos[1]), np.min(pos[0]),
            np.max(pos[1]), np.max(pos[0])
        ])
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    labels = np.ones((len(obj_ids), ), np.int64)  # 0 is background there
    return boxes, labels, masks.astype(np.uint8)


def build_det(root, **kwargs):
    # The scope picks mmdet's transforms for the pipeline.
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_DATASETS.build(
            dict(type='PennFudanDataset', data_root=str(root), **kwargs))


def build_seg(root, **kwargs):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_DATASETS.build(
            dict(type='PennFudanSemanticDataset', data_root=str(root),
                 **kwargs))


def infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def decode(rle):
    return mask_util.decode(dict(size=rle['size'],
                                 counts=rle['counts'].encode()))


def test_instances_equal_reference_loader(pf_root):
    dataset = build_det(pf_root)
    assert dataset.metainfo['classes'] == ('person', )
    # Same images, in the order of the reference's sorted listing.
    ref_stems = [
        n[:-4] for n in sorted(os.listdir(pf_root / 'PNGImages'))
    ]
    data = infos(dataset)
    assert [os.path.basename(d['img_path'])[:-4] for d in data] == ref_stems
    num_instances = []
    for info in data:
        stem = os.path.basename(info['img_path'])[:-4]
        boxes, labels, masks = reference_target(pf_root, stem)
        insts = info['instances']
        num_instances.append(len(insts))
        assert len(insts) == len(boxes)
        got_boxes = np.array([i['bbox'] for i in insts],
                             np.float32).reshape(-1, 4)
        # mmdet's boxes end after the last pixel: +1 on x2 and y2.
        np.testing.assert_array_equal(got_boxes, boxes + [0, 0, 1, 1])
        # The tutorial's label 1 (0 = background) is mmdet's class 0.
        assert [i['bbox_label'] for i in insts] == (labels - 1).tolist()
        assert all(i['ignore_flag'] == 0 for i in insts)
        assert all(isinstance(i['mask']['counts'], str) for i in insts)
        got_masks = np.stack([decode(i['mask']) for i in insts]) \
            if insts else np.zeros((0, info['height'], info['width']))
        np.testing.assert_array_equal(got_masks, masks)
        assert (info['height'], info['width']) == masks.shape[1:] or \
            not insts
        if insts:
            bitmap = BitmapMasks(got_masks, info['height'], info['width'])
            # 'hbox': mmdet 3.3's default 'hbb' is not a registered type.
            np.testing.assert_array_equal(
                bitmap.get_bboxes('hbox').numpy(),
                                          got_boxes)
    assert set(num_instances) == {0, 1, 2, 3}


def test_masks_survive_load_pipeline(pf_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(
            type='PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                       'instances'))
    ]
    dataset = build_det(pf_root, pipeline=pipeline, test_mode=True)
    assert len(dataset) == len(DEFAULT_SPECS)
    for idx in range(len(dataset)):
        packed = dataset[idx]
        sample = packed['data_samples']
        stem = os.path.basename(sample.img_path)[:-4]
        boxes, labels, masks = reference_target(pf_root, stem)
        image = np.array(Image.open(pf_root / 'PNGImages' / f'{stem}.png'))
        # Packed image is CHW BGR.
        np.testing.assert_array_equal(
            packed['inputs'].numpy().transpose(1, 2, 0)[..., ::-1], image)
        gt = sample.gt_instances
        np.testing.assert_array_equal(gt.masks.masks, masks)
        np.testing.assert_array_equal(gt.bboxes.numpy(),
                                      boxes + [0, 0, 1, 1])
        np.testing.assert_array_equal(gt.labels.numpy(), labels - 1)
        assert len(sample.instances) == len(boxes)


def test_empty_mask_kept_and_filter_empty_gt_decides(pf_root):
    empty = stem_of(3)  # DEFAULT_SPECS[3] has no pedestrian
    names = [os.path.basename(d['img_path'])[:-4]
             for d in infos(build_det(pf_root))]
    assert empty in names
    assert build_det(pf_root).get_data_info(
        names.index(empty))['instances'] == []
    filt = dict(filter_empty_gt=True, min_size=0)
    train = infos(build_det(pf_root, filter_cfg=filt))
    assert empty not in [os.path.basename(d['img_path'])[:-4] for d in train]
    assert len(train) == len(DEFAULT_SPECS) - 1
    # Never filtered for evaluation.
    test = build_det(pf_root, filter_cfg=filt, test_mode=True)
    assert len(test) == len(DEFAULT_SPECS)
    # min_size drops images whose shorter side is smaller.
    assert len(build_det(pf_root, filter_cfg=dict(min_size=100))) == 2


def test_unpaired_files_are_named(pf_root, tmp_path):
    root = tmp_path / 'pf'
    shutil.copytree(pf_root, root)
    (root / 'PNGImages' / f'{stem_of(0)}.png').unlink()
    (root / 'PNGImages' / f'{stem_of(1)}.png').unlink()
    (root / 'PedMasks' / f'{stem_of(2)}_mask.png').unlink()
    with pytest.raises(ValueError) as err:
        build_det(root)
    msg = str(err.value)
    assert f'{stem_of(0)}_mask.png' in msg and f'{stem_of(1)}_mask.png' \
        in msg and 'without an image' in msg
    assert f'{stem_of(2)}.png' in msg and 'without a mask' in msg
    with pytest.raises(ValueError, match=f'{stem_of(2)}.png'):
        build_seg(root)


def test_mask_of_another_size_is_an_error(pf_root, tmp_path):
    root = tmp_path / 'pf'
    shutil.copytree(pf_root, root)
    bad = root / 'PedMasks' / f'{stem_of(4)}_mask.png'
    mask = Image.open(bad)
    mask.resize((mask.width // 2, mask.height)).save(bad)
    with pytest.raises(ValueError, match=f'{stem_of(4)}_mask.png.*'
                       f'{stem_of(4)}.png'):
        build_det(root)
    with pytest.raises(ValueError, match=f'{stem_of(4)}_mask.png'):
        build_seg(root)


def test_rgb_mask_is_an_error(pf_root, tmp_path):
    root = tmp_path / 'pf'
    shutil.copytree(pf_root, root)
    bad = root / 'PedMasks' / f'{stem_of(5)}_mask.png'
    Image.open(bad).convert('RGB').save(bad)
    with pytest.raises(ValueError, match=f'{stem_of(5)}_mask.png.*RGB'):
        build_det(root)


def stems(dataset):
    return [os.path.basename(d['img_path'])[:-4] for d in infos(dataset)]


def test_split_is_deterministic_and_partitions(pf_root):
    all_stems = stems(build_det(pf_root))
    train = stems(build_det(pf_root, split='train', test_size=3))
    test = stems(build_det(pf_root, split='test', test_size=3))
    assert len(test) == 3 and len(train) == len(all_stems) - 3
    assert sorted(train + test) == all_stems
    # Rebuilt: the same split; and independent of the listing order.
    assert stems(build_det(pf_root, split='test', test_size=3)) == test
    assert split_names(all_stems[::-1], 'test', 3) == test
    # Another seed gives another split; a fraction works too.
    seeds = {
        tuple(split_names(all_stems, 'test', 3, seed)) for seed in range(6)
    }
    assert len(seeds) > 1
    assert len(split_names(all_stems, 'test', 0.25)) == 2
    # The image ids do not depend on the split.
    ids = {os.path.basename(d['img_path'])[:-4]: d['img_id']
           for d in infos(build_det(pf_root))}
    assert all(ids[os.path.basename(d['img_path'])[:-4]] == d['img_id']
               for d in infos(build_det(pf_root, split='test',
                                        test_size=3)))
    # The same split in a fresh interpreter (no shared RNG state).
    code = ('from seg_plugins.datasets.pennfudan_io import split_names;'
            f'print(",".join(split_names({all_stems!r}, "test", 3)))')
    out = run_tool('-c', code)
    assert out.strip().splitlines()[-1] == ','.join(test)
    with pytest.raises(AssertionError, match='test_size'):
        build_det(pf_root, split='train', test_size=len(all_stems))


def test_split_file(pf_root, tmp_path):
    split_file = tmp_path / 'val.txt'
    split_file.write_text(f'{stem_of(2)}\n{stem_of(5)}.png\n\n')
    assert stems(build_det(pf_root, ann_file=str(split_file))) == [
        stem_of(2), stem_of(5)
    ]
    split_file.write_text(f'{stem_of(2)}\nNoSuchPed00001\n')
    with pytest.raises(ValueError, match='NoSuchPed00001'):
        build_det(pf_root, ann_file=str(split_file))


def test_annotation_boxes_checked(pf_root, tmp_path):
    log_file = tmp_path / 'log.txt'
    MMLogger.get_instance('pennfudan_ann_check', log_file=str(log_file))
    build_det(pf_root)  # the fixture's texts agree with its masks
    assert 'disagree' not in log_file.read_text()
    root = tmp_path / 'pf'
    shutil.copytree(pf_root, root)
    ann = root / 'Annotation' / f'{stem_of(1)}.txt'
    text = ann.read_text()
    start = text.index('(Xmin, Ymin) - (Xmax, Ymax) : (') + 31
    x1 = int(text[start:text.index(',', start)])
    ann.write_text(text[:start] + str(x1 + 10) +
                   text[text.index(',', start):])
    dataset = build_det(root)
    log = log_file.read_text()
    assert '1 annotation box(es) disagree' in log and stem_of(1) in log
    # The masks are used either way.
    assert [d['instances'] for d in infos(dataset)] == \
        [d['instances'] for d in infos(build_det(pf_root))]


def test_semantic_variant_collapses_ids(pf_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    dataset = build_seg(pf_root, split='test', test_size=3, pipeline=pipeline)
    assert dataset.metainfo['classes'] == ('background', 'person')
    det_test = stems(build_det(pf_root, split='test', test_size=3))
    assert [os.path.basename(dataset.get_data_info(i)['img_path'])[:-4]
            for i in range(len(dataset))] == det_test
    for idx in range(len(dataset)):
        results = dataset[idx]
        ids = np.array(Image.open(results['seg_map_path']))
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      (ids != 0).astype(np.uint8))
        assert results['img'].shape[:2] == ids.shape


def test_coco_export_loads_in_mmdet_coco_dataset(pf_root, tmp_path):
    out = tmp_path / 'coco' / 'instances_all.json'
    log = run_tool('tools/dataset_converters/pennfudan2coco.py', pf_root,
                   '--out', out, '--write-split', tmp_path / 'splits')
    assert 'pedestrians ->' in log
    coco = json.loads(out.read_text())
    assert [c['name'] for c in coco['categories']] == ['person']
    ours = infos(build_det(pf_root))
    assert len(coco['images']) == len(ours)
    assert (tmp_path / 'splits' / 'all.txt').read_text().split() == \
        stems(build_det(pf_root))
    with DefaultScope.overwrite_default_scope('mmdet'):
        theirs = DET_DATASETS.build(
            dict(
                type='CocoDataset',
                data_root=str(pf_root),
                ann_file=str(out),
                data_prefix=dict(img=''),
                metainfo=dict(classes=('person', )),
                test_mode=True))
    # Round trip with paths relative to the working directory: a written
    # split file is read back by --split-file.
    script = REPO / 'tools/dataset_converters/pennfudan2coco.py'
    run_tool(script, pf_root, '--split', 'test', '--test-size', '2',
             '--out', 'test.json', '--write-split', 'rel', cwd=tmp_path)
    run_tool(script, pf_root, '--split-file', 'rel/test.txt', '--out',
             'again.json', cwd=tmp_path)
    again = json.loads((tmp_path / 'again.json').read_text())
    assert [i['file_name'] for i in again['images']] == [
        i['file_name'] for i in json.loads(
            (tmp_path / 'test.json').read_text())['images']]
    by_id = {d['img_id']: d for d in infos(theirs)}
    for info in ours:
        other = by_id[info['img_id']]
        assert other['img_path'] == info['img_path']
        assert (other['height'], other['width']) == (info['height'],
                                                     info['width'])
        assert [i['bbox'] for i in other['instances']] == \
            [i['bbox'] for i in info['instances']]
        assert [i['bbox_label'] for i in other['instances']] == \
            [i['bbox_label'] for i in info['instances']]
        for a, b in zip(other['instances'], info['instances']):
            np.testing.assert_array_equal(decode(a['mask']),
                                          decode(b['mask']))
    # Mask areas, not box areas, as COCO's annotations have.
    ann = coco['annotations'][0]
    assert ann['area'] == decode(ann['segmentation']).sum()


if __name__ == '__main__':
    sys.exit(pytest.main([__file__, '-q']))
