r"""Export PennFudanPed to a COCO instances json (for other tools).

    python tools/dataset_converters/pennfudan2coco.py data/PennFudanPed \
        --out data/PennFudanPed/annotations/instances_test.json \
        [--split {all,train,test}] [--test-size 50] [--seed 0]
        [--split-file FILE] [--write-split DIR]

The instances are exactly those of ``PennFudanDataset`` (the same pairing,
split, boxes and RLE masks): category 1 'person', ``bbox`` as COCO
``[x, y, w, h]`` of mmdet's box (``w = x_max + 1 - x_min``), ``area`` the
mask's pixel count, ``iscrowd`` 0, ``segmentation`` compressed RLE with str
counts, ``file_name`` relative to the dataset root. Images without
pedestrians are listed with no annotations. ``--write-split DIR`` also
writes ``DIR/<split>.txt`` (image names), a split file that pins the split
for ``PennFudanDataset(ann_file=...)`` independently of numpy's generator.
"""
import argparse
import os
import os.path as osp

import pycocotools.mask as mask_util
from mmengine.fileio import dump

from seg_plugins.datasets.pennfudan import PennFudanDataset


def parse_args():
    parser = argparse.ArgumentParser(
        description='PennFudanPed to COCO instances json')
    parser.add_argument('root', help='dataset root (PNGImages/, PedMasks/)')
    parser.add_argument('--out', required=True, help='output json file')
    parser.add_argument(
        '--split', default='all', choices=['all', 'train', 'test'])
    parser.add_argument(
        '--test-size',
        type=float,
        default=50,
        help='test images: a count, or a fraction when below 1')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument(
        '--split-file', default='', help='image names, one a line')
    parser.add_argument(
        '--write-split', help='also write <DIR>/<split>.txt of image names')
    return parser.parse_args()


def dataset_to_coco(dataset: PennFudanDataset) -> dict:
    """COCO instances dict of every image of ``dataset``.

    Args:
        dataset (PennFudanDataset): A fully initialised dataset.

    Returns:
        dict: ``images``, ``annotations``, ``categories``.
    """
    root = dataset.data_root or ''
    images, annotations = [], []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        images.append(
            dict(
                id=info['img_id'],
                file_name=osp.relpath(info['img_path'], root)
                if root else info['img_path'],
                height=info['height'],
                width=info['width']))
        for inst in info['instances']:
            x1, y1, x2, y2 = inst['bbox']
            rle = inst['mask']
            area = mask_util.area(
                dict(size=rle['size'], counts=rle['counts'].encode()))
            annotations.append(
                dict(
                    id=len(annotations) + 1,  # COCO ids start at 1
                    image_id=info['img_id'],
                    category_id=inst['bbox_label'] + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=float(area),
                    iscrowd=0,
                    segmentation=dict(rle)))
    categories = [
        dict(id=i + 1, name=name, supercategory='person')
        for i, name in enumerate(dataset.metainfo['classes'])
    ]
    return dict(
        info=dict(description='PennFudanPed, exported by seg_plugins'),
        images=images,
        annotations=annotations,
        categories=categories)


def main():
    args = parse_args()
    test_size = args.test_size if args.test_size < 1 else int(args.test_size)
    dataset = PennFudanDataset(
        data_root=args.root,
        # Relative to the working directory, as --write-split writes it
        # (the dataset would join a relative ann_file to data_root).
        ann_file=osp.abspath(args.split_file) if args.split_file else '',
        split=args.split,
        test_size=test_size,
        split_seed=args.seed,
        test_mode=True)
    coco = dataset_to_coco(dataset)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    dump(coco, args.out)
    print(f'{len(coco["images"])} images, {len(coco["annotations"])} '
          f'pedestrians -> {args.out}')
    if args.write_split:
        os.makedirs(args.write_split, exist_ok=True)
        split_path = osp.join(args.write_split, f'{args.split}.txt')
        with open(split_path, 'w') as f:
            for image in coco['images']:
                f.write(osp.splitext(osp.basename(image['file_name']))[0] +
                        '\n')
        print(f'split file -> {split_path}')


if __name__ == '__main__':
    main()
