from typing import List

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
    Everything else (palette-PNG labels, ``reduce_zero_label``, custom
    classes) is upstream's; use ``LoadColorAnnotations`` in the pipeline for
    RGB colour labels.

    Args:
        **kwargs: ``PascalVOCDataset`` arguments (``ann_file``,
            ``data_root``, ``data_prefix``, ``pipeline``, ...).
    """

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
        if missing:
            listed = '; '.join(' and '.join(m) for m in missing[:10])
            more = (f' (and {len(missing) - 10} more)'
                    if len(missing) > 10 else '')
            raise FileNotFoundError(
                f'{len(missing)} name(s) in {self.ann_file} have no image or '
                f'label: missing {listed}{more}')
        return data_list
