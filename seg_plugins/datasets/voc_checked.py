from typing import List, Optional, Sequence

import mmengine.fileio as fileio
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CheckedVOCDataset(PascalVOCDataset):
    """mmseg's ``PascalVOCDataset`` that checks its split file up front.

    Upstream builds paths from ``ImageSets/Segmentation/<split>.txt`` without
    looking at the disk, so a listed name whose image or label is missing
    fails much later, inside a dataloader worker. This raises at
    construction, naming the split file, the names and the missing files.
    It also takes classes of your own in VOC's folder layout:
    ``metainfo=dict(classes=..., palette=...)`` with classes that are not
    VOC's replaces them (labels are indices of the new classes), where
    upstream only accepts a subset of VOC's 21 and remaps to it; samples
    then carry ``seg_palette`` so that ``LoadColorAnnotations`` without a
    ``palette`` decodes RGB labels with these colours. Everything
    else (palette-PNG labels, ``reduce_zero_label``) is upstream's; use
    ``LoadColorAnnotations`` in the pipeline for RGB colour labels.

    Args:
        **kwargs: ``PascalVOCDataset`` arguments (``ann_file``,
            ``data_root``, ``data_prefix``, ``pipeline``, ...).
    """

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence] = None):
        """Upstream's map for a subset of VOC's classes; None (labels used
        as they are) for classes of one's own."""
        if new_classes is not None and not set(new_classes).issubset(
                cls.METAINFO['classes']):
            return None
        return super().get_label_map(new_classes)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        missing = []
        for info in data_list:
            paths = [info['img_path'], info.get('seg_map_path')]
            absent = [
                p for p in paths
                if p is not None and not fileio.exists(p, self.backend_args)
            ]
            if absent:
                missing.append(absent)
        classes = self.metainfo['classes']
        if not set(classes).issubset(self.METAINFO['classes']):
            # Own classes: LoadColorAnnotations decodes with their colours.
            palette = [tuple(c) for c in self.metainfo['palette']]
            for info in data_list:
                info['seg_palette'] = palette
        if missing:
            listed = '; '.join(' and '.join(m) for m in missing[:10])
            more = (f' (and {len(missing) - 10} more)'
                    if len(missing) > 10 else '')
            raise FileNotFoundError(
                f'{len(missing)} name(s) in {self.ann_file} have no image or '
                f'label: missing {listed}{more}')
        return data_list
