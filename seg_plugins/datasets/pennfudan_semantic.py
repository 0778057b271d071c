import os.path as osp
from typing import List, Union

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .pennfudan_io import (
    read_id_mask,
    read_image_size,
    select_split,
)


@DATASETS.register_module()
class PennFudanSemanticDataset(BaseSegDataset):
    """PennFudanPed as person/background semantic segmentation.

    Reads the same folders, pairing and split as :class:`PennFudanDataset`
    (mmdet), so a ``split='test'`` here holds the same images there. The
    instance ids of ``PedMasks/*_mask.png`` collapse to 1 ('person') through
    a per-image ``label_map`` that mmseg's ``LoadAnnotations`` applies, so
    the upstream loading transform is used unchanged.

    Args:
        split (str): 'train', 'test' or 'all'. Defaults to 'all'.
        test_size (int | float): Test images, a count or a fraction.
            Defaults to 50.
        split_seed (int): Seed of the split's permutation. Defaults to 0.
        ann_file (str): Optional split file, one image name a line; when
            given it selects the images and ``split`` is not used.
        img_suffix (str): Defaults to '.png'.
        seg_map_suffix (str): Defaults to '_mask.png'.
        data_prefix (dict): ``img_path`` and ``seg_map_path`` folders under
            ``data_root``. Defaults to PNGImages and PedMasks.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """

    METAINFO = dict(
        classes=('background', 'person'),
        palette=[[0, 0, 0], [220, 20, 60]])

    def __init__(self,
                 split: str = 'all',
                 test_size: Union[int, float] = 50,
                 split_seed: int = 0,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '_mask.png',
                 data_prefix: dict = dict(
                     img_path='PNGImages', seg_map_path='PedMasks'),
                 **kwargs) -> None:
        assert split in ('all', 'train', 'test'), \
            f"split must be 'all', 'train' or 'test', got {split!r}"
        self.split = split
        self.test_size = test_size
        self.split_seed = split_seed
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Pair, split, and map each mask's instance ids to 1.

        Returns:
            list[dict]: mmseg data infos with a per-image ``label_map``.
        """
        img_dir = self.data_prefix['img_path']
        mask_dir = self.data_prefix['seg_map_path']
        _, names = select_split(img_dir, mask_dir, self.img_suffix,
                                self.seg_map_suffix, self.ann_file,
                                self.split, self.test_size, self.split_seed,
                                self.backend_args)
        data_list = []
        for stem in names:
            img_path = osp.join(img_dir, stem + self.img_suffix)
            seg_map_path = osp.join(mask_dir, stem + self.seg_map_suffix)
            id_mask = read_id_mask(seg_map_path, self.backend_args)
            height, width = read_image_size(img_path, self.backend_args)
            if id_mask.shape != (height, width):
                raise ValueError(
                    f'PennFudan: mask {seg_map_path} is {id_mask.shape[1]}x'
                    f'{id_mask.shape[0]} (WxH) but its image {img_path} is '
                    f'{width}x{height}')
            ids = np.unique(id_mask)
            data_list.append(
                dict(
                    img_path=img_path,
                    seg_map_path=seg_map_path,
                    label_map={int(i): 1
                               for i in ids if i != 0},
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        return data_list
