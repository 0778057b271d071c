import logging
import os.path as osp
from typing import List, Optional, Union

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine import fileio
from mmengine.logging import print_log

from .pennfudan_io import (
    mask_to_bbox,
    mask_to_rle,
    read_annotation_boxes,
    read_id_mask,
    read_image_size,
    select_split,
    split_instances,
)


@DATASETS.register_module()
class PennFudanDataset(BaseDetDataset):
    """PennFudanPed pedestrians for instance segmentation.

    The data of the Mask R-CNN section of the tutorial "图像分割" (after
    torchvision's "TorchVision Object Detection Finetuning Tutorial").

    Layout under ``data_root``::

        PNGImages/FudanPed00001.png       RGB image
        PedMasks/FudanPed00001_mask.png   instance ids, 0 background
        Annotation/FudanPed00001.txt      PASCAL boxes (optional, checked)

    Every non-zero id of a mask is one 'person' instance with

    - ``bbox``: ``[x1, y1, x2, y2]`` from the mask in mmdet's convention
      (``x2 = x_max + 1``), equal to ``BitmapMasks.get_bboxes``;
    - ``bbox_label`` 0, ``ignore_flag`` 0, ``instance_id`` (the id);
    - ``mask``: COCO RLE ``{'size': [H, W], 'counts': str}``, decoded by
      ``LoadAnnotations(with_mask=True)``.

    A mask without any pedestrian gives an image with no instances; it is
    kept, and mmdet's ``filter_cfg=dict(filter_empty_gt=True)`` drops it
    from training (never in ``test_mode``).

    Args:
        split (str): 'train', 'test' or 'all'. The tutorial's split keeps
            ``test_size`` images of a random permutation for testing.
            Defaults to 'all'.
        test_size (int | float): Test images, a count or a fraction in
            (0, 1). Defaults to 50 (the tutorial's 120/50 split).
        split_seed (int): Seed of the split's permutation (numpy
            ``default_rng`` over the sorted names, so the split is the same
            across runs and machines). Defaults to 0.
        ann_file (str): Optional split file, one image name a line; when
            given it selects the images and ``split`` is not used.
            Defaults to ''.
        data_prefix (dict): Folders under ``data_root``: ``img`` images,
            ``mask`` instance masks, ``ann`` the optional annotation texts.
        img_suffix (str): Defaults to '.png'.
        mask_suffix (str): Defaults to '_mask.png'.
        check_ann_boxes (bool): Compare the ``Annotation/*.txt`` boxes (when
            the folder exists) with the boxes from the masks and warn where
            they differ by more than ``ann_box_tol`` pixels or name other
            objects. The masks are used either way. Defaults to True.
        ann_box_tol (float): Defaults to 2.
        **kwargs: :class:`mmdet.datasets.BaseDetDataset` arguments.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])

    def __init__(self,
                 *args,
                 split: str = 'all',
                 test_size: Union[int, float] = 50,
                 split_seed: int = 0,
                 data_prefix: dict = dict(
                     img='PNGImages', mask='PedMasks', ann='Annotation'),
                 img_suffix: str = '.png',
                 mask_suffix: str = '_mask.png',
                 check_ann_boxes: bool = True,
                 ann_box_tol: float = 2.,
                 **kwargs) -> None:
        assert split in ('all', 'train', 'test'), \
            f"split must be 'all', 'train' or 'test', got {split!r}"
        assert 'img' in data_prefix and 'mask' in data_prefix, \
            f'data_prefix needs "img" and "mask" folders, got {data_prefix}'
        self.split = split
        self.test_size = test_size
        self.split_seed = split_seed
        self.img_suffix = img_suffix
        self.mask_suffix = mask_suffix
        self.check_ann_boxes = check_ann_boxes
        self.ann_box_tol = ann_box_tol
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Pair images with masks, select the split, parse every mask.

        Returns:
            list[dict]: One data info per image of the split.
        """
        img_dir = self.data_prefix['img']
        mask_dir = self.data_prefix['mask']
        stems, names = select_split(img_dir, mask_dir, self.img_suffix,
                                    self.mask_suffix, self.ann_file,
                                    self.split, self.test_size,
                                    self.split_seed, self.backend_args)
        # Ids index the full sorted listing: the same image keeps its id in
        # every split.
        img_ids = {stem: i for i, stem in enumerate(stems)}
        data_list = [
            self.parse_data_info(
                dict(
                    img_id=img_ids[stem],
                    img_path=osp.join(img_dir, stem + self.img_suffix),
                    mask_path=osp.join(mask_dir, stem + self.mask_suffix)))
            for stem in names
        ]
        if self.check_ann_boxes:
            self._check_ann_boxes(data_list)
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Instances of one image from its id mask.

        Args:
            raw_data_info (dict): ``img_id``, ``img_path``, ``mask_path``.

        Returns:
            dict: mmdet data info (``img_path``, ``img_id``, ``height``,
            ``width``, ``instances``; ``mask_path`` kept for reference).
        """
        img_path = raw_data_info['img_path']
        mask_path = raw_data_info['mask_path']
        height, width = read_image_size(img_path, self.backend_args)
        id_mask = read_id_mask(mask_path, self.backend_args)
        if id_mask.shape != (height, width):
            raise ValueError(
                f'PennFudan: mask {mask_path} is {id_mask.shape[1]}x'
                f'{id_mask.shape[0]} (WxH) but its image {img_path} is '
                f'{width}x{height}')
        ids, masks = split_instances(id_mask)
        instances = [
            dict(
                bbox=mask_to_bbox(mask),
                bbox_label=0,
                ignore_flag=0,
                mask=mask_to_rle(mask),
                instance_id=int(obj_id)) for obj_id, mask in zip(ids, masks)
        ]
        return dict(
            img_path=img_path,
            img_id=raw_data_info['img_id'],
            mask_path=mask_path,
            seg_map_path=None,
            height=height,
            width=width,
            instances=instances)

    def filter_data(self) -> List[dict]:
        """``filter_cfg``: ``filter_empty_gt`` drops images without
        pedestrians, ``min_size`` images whose shorter side is smaller (as
        mmdet's ``XMLDataset``). Nothing is filtered in ``test_mode``.

        Returns:
            list[dict]: The kept data infos.
        """
        if self.test_mode or self.filter_cfg is None:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        return [
            info for info in self.data_list
            if not (filter_empty_gt and not info['instances'])
            and min(info['width'], info['height']) >= min_size
        ]

    def _check_ann_boxes(self, data_list: List[dict]) -> None:
        """Warn where ``Annotation/*.txt`` disagrees with the masks."""
        ann_dir: Optional[str] = self.data_prefix.get('ann', None)
        if not ann_dir or not fileio.isdir(ann_dir, self.backend_args):
            return
        issues = []
        for info in data_list:
            stem = osp.basename(info['img_path'])[:-len(self.img_suffix)]
            ann_path = osp.join(ann_dir, stem + '.txt')
            if not fileio.exists(ann_path, self.backend_args):
                continue
            ann_boxes = read_annotation_boxes(ann_path, self.backend_args)
            mask_boxes = {
                inst['instance_id']: inst['bbox']
                for inst in info['instances']
            }
            if set(ann_boxes) != set(mask_boxes):
                issues.append(f'{stem}: objects {sorted(ann_boxes)} in the '
                              f'annotation, ids {sorted(mask_boxes)} in the '
                              f'mask')
                continue
            for obj_id, ann_box in sorted(ann_boxes.items()):
                diff = max(
                    abs(a - m) for a, m in zip(ann_box, mask_boxes[obj_id]))
                if diff > self.ann_box_tol:
                    issues.append(
                        f'{stem} object {obj_id}: annotation box '
                        f'{list(ann_box)} vs mask box {mask_boxes[obj_id]}')
        if issues:
            shown = issues[:20] + (
                [f'... {len(issues) - 20} more'] if len(issues) > 20 else [])
            print_log(
                f'PennFudan: {len(issues)} annotation box(es) disagree with '
                f'the masks by more than {self.ann_box_tol} px (the masks '
                f'are used): ' + '; '.join(shown),
                logger='current',
                level=logging.WARNING)
