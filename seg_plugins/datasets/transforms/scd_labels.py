"""Load and pack the two label maps of a semantic change pair."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform, to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from ...geo.raster_io import is_raster_path, read_raster_label
from ...utils.image_io import check_label_size, read_image
from .color_label import PaletteDecoder

IGNORE_INDEX = 255


@TRANSFORMS.register_module()
class LoadSCDLabels(BaseTransform):
    """Read the from-class and to-class maps of a pair (0 = no change).

    RGB labels are decoded with the sample's ``seg_palette`` (set by
    :class:`SECONDDataset`); single-channel PNGs and GeoTIFF chips are read
    as indices (raster nodata -> 255, ignored). The change label is 1 where
    either map holds a class, 255 where either is ignored.

    Required Keys: seg_map_path, seg_map_path2, seg_palette, ori_shape.
    Added Keys: gt_seg_map (change, {0, 1, 255}), gt_seg_map_from,
    gt_seg_map_to (uint8), all three in seg_fields so that mmseg's
    geometric transforms move them with the images.

    Args:
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args
        self._decoders = {}

    def _read(self, path: Optional[str], palette) -> np.ndarray:
        if path is None:
            raise ValueError('pair has no label maps (no label1/label2 '
                             'folders): remove LoadSCDLabels from the '
                             'pipeline, or use tools/infer.py')
        num_classes = len(palette)
        if is_raster_path(path):
            label, nodata = read_raster_label(path, self.backend_args)
            label = np.where(nodata, 0, label)
        else:
            label, nodata = read_image(path, 'unchanged',
                                       self.backend_args), None
        if label.ndim == 3 and label.shape[2] in (3, 4):
            key = tuple(palette)
            if key not in self._decoders:
                self._decoders[key] = PaletteDecoder(key)
            # mmcv gives BGR(A).
            label, problem = self._decoders[key].decode_report(
                label[..., :3], 'bgr', path)
            if problem:
                rows, cols = np.nonzero(label == IGNORE_INDEX)
                raise ValueError(
                    f'{problem}; the first at row {rows[0]}, column '
                    f'{cols[0]}. The {num_classes} colours of the config, '
                    f'in class order: {list(key)}')
        elif label.ndim == 3:
            raise ValueError(f'label {path} has {label.shape[2]} channels; '
                             'expected RGB colours or one index channel')
        else:
            bad = (label >= num_classes) & (label != IGNORE_INDEX)
            if bad.any():
                raise ValueError(
                    f'label {path} holds class {int(label[bad].max())} but '
                    f'the config lists {num_classes} classes (0 = no '
                    'change): metainfo classes and the labels disagree')
            label = label.astype(np.uint8)
        if nodata is not None:
            label[nodata] = IGNORE_INDEX
        return label

    def transform(self, results: dict) -> dict:
        palette = results['seg_palette']
        maps = []
        for key in ('seg_map_path', 'seg_map_path2'):
            label = self._read(results[key], palette)
            check_label_size(label, results, results[key])
            maps.append(label)
        ignored = (maps[0] == IGNORE_INDEX) | (maps[1] == IGNORE_INDEX)
        change = ((maps[0] > 0) | (maps[1] > 0)).astype(np.uint8)
        change[ignored] = IGNORE_INDEX
        results['gt_seg_map'] = change
        results['gt_seg_map_from'], results['gt_seg_map_to'] = maps
        results['seg_fields'].extend(
            ['gt_seg_map', 'gt_seg_map_from', 'gt_seg_map_to'])
        return results


@TRANSFORMS.register_module()
class PackSCDInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` that also packs ``gt_seg_map_from`` and
    ``gt_seg_map_to`` as ``gt_sem_seg_from``/``gt_sem_seg_to`` (1, H, W)."""

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        for date in ('from', 'to'):
            key = f'gt_seg_map_{date}'
            if key in results:
                data = to_tensor(results[key][None].astype(np.int64))
                packed['data_samples'].set_data(
                    {f'gt_sem_seg_{date}': PixelData(data=data)})
        return packed
