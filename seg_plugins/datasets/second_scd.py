import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseCDDataset
from mmseg.registry import DATASETS

from .bitemporal_change import BiTemporalChangeDataset

# SECOND's colour codes (Yang et al., 2021), class 0 = no change.
SECOND_CLASSES = ('unchanged', 'water', 'ground', 'low vegetation', 'tree',
                  'building', 'sports field')
SECOND_PALETTE = [[255, 255, 255], [0, 0, 255], [128, 128, 128],
                  [0, 128, 0], [0, 255, 0], [128, 0, 0], [255, 0, 0]]


@DATASETS.register_module()
class SECONDDataset(BiTemporalChangeDataset):
    """Semantic change pairs: two images and a from-class and a to-class
    map (0 = no change), as SECOND distributes them::

        train/im1/xxx.png  train/im2/xxx.png
        train/label1/xxx.png  train/label2/xxx.png  (and test/...)

    Labels are SECOND's RGB colour codes or index PNGs (0 = no change,
    1.. the classes in ``metainfo['classes'][1:]`` order);
    :class:`LoadSCDLabels` decodes them with the dataset's palette. For
    data of one's own give ``folders``, ``img_suffix``/``seg_map_suffix``
    (e.g. '.tif' for GeoTIFF chips) and ``metainfo=dict(classes=...,
    palette=...)`` with 'unchanged' first. A name missing from any of the
    four folders is an error listing the names and folders.

    Args:
        split (str, optional): split sub-folder ('train', 'test').
        folders (Sequence[str]): (image 1, image 2, label 1, label 2) folder
            names. Default: SECOND's ('im1', 'im2', 'label1', 'label2').
        data_prefix (dict, optional): explicit ``img_path``, ``img_path2``,
            ``seg_map_path``, ``seg_map_path2``; overrides the two above.
        ann_file (str): optional list of names, relative to ``data_root``.
        **kwargs: passed to mmseg's ``BaseCDDataset``.
    """

    METAINFO = dict(classes=SECOND_CLASSES, palette=SECOND_PALETTE)
    KEYS = ('img_path', 'img_path2', 'seg_map_path', 'seg_map_path2')

    def __init__(self,
                 split: Optional[str] = None,
                 folders: Sequence[str] = ('im1', 'im2', 'label1', 'label2'),
                 data_prefix: Optional[dict] = None,
                 ann_file: str = '',
                 **kwargs) -> None:
        self.layout = 'second'
        self.label_threshold = None
        if data_prefix is None:
            assert len(folders) == 4, (
                f'folders needs (im1, im2, label1, label2), got {folders}')
            data_prefix = {
                k: osp.join(split or '', f)
                for k, f in zip(self.KEYS, folders)
            }
        for key in ('img_suffix', 'img_suffix2', 'seg_map_suffix'):
            kwargs.setdefault(key, '.png')
        BaseCDDataset.__init__(
            self, data_prefix=data_prefix, ann_file=ann_file, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        """None: a config's own ``classes`` name the label indices as they
        are, not a subset of SECOND's to remap."""
        return None

    def load_data_list(self) -> List[dict]:
        """Pair the four files of each name; errors as the binary
        dataset's (every unpaired name, with its folder)."""
        suffixes = (self.img_suffix, self.img_suffix2, self.seg_map_suffix,
                    self.seg_map_suffix)
        names, files = self._pair_files(self.KEYS, suffixes)
        labelled = 'seg_map_path' in files and 'seg_map_path2' in files
        palette = [tuple(c) for c in self.metainfo['palette']]
        return [
            dict(
                img_path=files['img_path'][n],
                img_path2=files['img_path2'][n],
                seg_map_path=files['seg_map_path'][n] if labelled else None,
                seg_map_path2=files['seg_map_path2'][n] if labelled else None,
                seg_palette=palette,
                label_map=None,
                reduce_zero_label=False,
                seg_fields=[]) for n in names
        ]
