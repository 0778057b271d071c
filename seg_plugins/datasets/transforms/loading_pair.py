"""Loading of image pairs and binary change labels, without GDAL."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ...utils.image_io import check_label_size, read_image


@TRANSFORMS.register_module()
class LoadImagePairFromFile(BaseTransform):
    """Load both images of a pair (``img_path``, ``img_path2``).

    mmseg's ``LoadMultipleRSImageFromFile`` needs GDAL; this reads with
    mmcv/OpenCV (any channel count with ``color_type='unchanged'``).

    Added keys: ``img``, ``img2`` (H, W, C), ``img_shape``, ``ori_shape``.

    Args:
        color_type (str): mmcv ``imfrombytes`` flag. Default: 'color' (BGR,
            like mmseg's ``LoadImageFromFile``).
        to_float32 (bool): Convert to float32. Default: False.
        imdecode_backend (str): 'cv2' or 'pillow'. Default: 'cv2'.
        backend_args (dict, optional): File backend arguments.
    """

    def __init__(self, color_type: str = 'color', to_float32: bool = False,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None):
        self.color_type = color_type
        self.to_float32 = to_float32
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        imgs = []
        for key in ('img_path', 'img_path2'):
            img = read_image(results[key], self.color_type, self.backend_args,
                             self.imdecode_backend)
            if img.ndim == 2:
                img = img[..., None]
            imgs.append(img.astype(np.float32) if self.to_float32 else img)
        if imgs[0].shape != imgs[1].shape:
            raise ValueError(
                f'image pair of different shapes: {results["img_path"]} is '
                f'{imgs[0].shape}, {results["img_path2"]} is {imgs[1].shape}')
        results['img'], results['img2'] = imgs
        results['img_shape'] = results['ori_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r})')


@TRANSFORMS.register_module()
class LoadChangeLabel(LoadAnnotations):
    """Load a binary change label as {0, 1}, checking it.

    Accepts 0/255 or 0/1 labels (single channel, or identical channels);
    any other value is an error naming the file and the values, unless
    ``results['label_threshold']`` (set by the dataset, e.g. for JPEG labels)
    asks for ``label >= threshold``. The label must have the image's size.
    Arguments are those of mmseg's ``LoadAnnotations``.
    """

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        if path is None:
            raise ValueError(
                f'pair {results.get("img_path")} has no change label (the '
                'dataset has no label folder): remove LoadChangeLabel from '
                'the pipeline, or use tools/infer.py for unlabelled pairs')
        label = read_image(path, 'unchanged', self.backend_args,
                           self.imdecode_backend)
        if label.ndim == 3:
            if not (label == label[..., :1]).all():
                raise ValueError(f'change label {path} has {label.shape[2]} '
                                 'channels that differ; expected one')
            label = label[..., 0]
        threshold = results.get('label_threshold')
        if threshold is not None:
            label = (label >= threshold).astype(np.uint8)
        else:
            values = np.unique(label)
            if not (set(values) <= {0, 255} or set(values) <= {0, 1}):
                raise ValueError(
                    f'change label {path} has values {values.tolist()[:10]}; '
                    'expected {0, 255} or {0, 1}')
            label = (label > 0).astype(np.uint8)
        check_label_size(label, results, path)
        results['gt_seg_map'] = label
        results['seg_fields'].append('gt_seg_map')
