"""Loading of image pairs and binary change labels: PNG/JPEG through
mmcv/OpenCV, GeoTIFF (and any GDAL-readable raster) through rasterio, whose
wheels bundle GDAL."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ...geo.raster_io import is_raster_path, read_raster, read_raster_label
from ...utils.image_io import check_label_size, read_image

READERS = ('auto', 'rasterio', 'mmcv')
# The ignore value of BinaryChangeHead and ChangeMetric (their default) and
# of the preprocessor's seg_pad_val: nodata in a raster label becomes it.
IGNORE_INDEX = 255


@TRANSFORMS.register_module()
class LoadImagePairFromFile(BaseTransform):
    """Load both images of a pair (``img_path``, ``img_path2``).

    mmseg's ``LoadMultipleRSImageFromFile`` needs a system GDAL (``osgeo``).
    Here PNG/JPEG go through mmcv/OpenCV as in mmseg's
    ``LoadImageFromFile`` (colour as BGR); GeoTIFFs (``.tif``, ``.tiff``,
    ``.jp2``, ``.img``, ``.vrt``) through rasterio with every band (or
    ``bands``) and their dtype kept (uint16 stays uint16), in the order of
    :func:`seg_plugins.geo.to_loader_order`: a 3-band raster reversed to BGR
    as cv2 gives the same picture as PNG, any other band count in band
    order (its config sets ``bgr_to_rgb=False``).

    Added keys: ``img``, ``img2`` (H, W, C), ``img_shape``, ``ori_shape``.

    Args:
        color_type (str): mmcv ``imfrombytes`` flag (PNG/JPEG). Default:
            'color' (BGR, like mmseg's ``LoadImageFromFile``).
        to_float32 (bool): Convert to float32. Default: False.
        imdecode_backend (str): 'cv2' or 'pillow' (PNG/JPEG). Default:
            'cv2'.
        reader (str): 'auto' (rasterio for raster suffixes, mmcv for the
            rest), 'rasterio' or 'mmcv' for every file. Default: 'auto'.
        bands (Sequence[int], optional): 1-based bands read by rasterio
            (GDAL's numbering). None: all.
        backend_args (dict, optional): File backend arguments.
    """

    def __init__(self, color_type: str = 'color', to_float32: bool = False,
                 imdecode_backend: str = 'cv2', reader: str = 'auto',
                 bands: Optional[Sequence[int]] = None,
                 backend_args: Optional[dict] = None):
        assert reader in READERS, (
            f'reader must be one of {READERS}, got {reader!r}')
        self.color_type = color_type
        self.to_float32 = to_float32
        self.imdecode_backend = imdecode_backend
        self.reader = reader
        self.bands = None if bands is None else [int(b) for b in bands]
        self.backend_args = backend_args

    def _read(self, path: str) -> np.ndarray:
        if self.reader == 'rasterio' or (self.reader == 'auto'
                                         and is_raster_path(path)):
            return read_raster(path, self.bands, self.backend_args)
        return read_image(path, self.color_type, self.backend_args,
                          self.imdecode_backend)

    def transform(self, results: dict) -> dict:
        imgs = []
        for key in ('img_path', 'img_path2'):
            img = self._read(results[key])
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
                f'imdecode_backend={self.imdecode_backend!r}, '
                f'reader={self.reader!r}, bands={self.bands})')


@TRANSFORMS.register_module()
class LoadChangeLabel(LoadAnnotations):
    """Load a binary change label as {0, 1}, checking it.

    Accepts 0/255 or 0/1 labels (single channel, or identical channels);
    any other value is an error naming the file and the values, unless
    ``results['label_threshold']`` (set by the dataset, e.g. for JPEG labels)
    asks for ``label >= threshold``. The label must have the image's size.
    A raster label (GeoTIFF, read by rasterio) may declare nodata: those
    pixels become 255, which the change head and ``ChangeMetric`` ignore
    (``tools/dataset_converters/scenes2chips.py`` writes 0/1 with nodata
    255 outside the scenes' footprints). Arguments are those of mmseg's
    ``LoadAnnotations``.
    """

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        if path is None:
            raise ValueError(
                f'pair {results.get("img_path")} has no change label (the '
                'dataset has no label folder): remove LoadChangeLabel from '
                'the pipeline, or use tools/infer.py for unlabelled pairs')
        nodata = None
        if is_raster_path(path):
            label, nodata = read_raster_label(path, self.backend_args)
            label = np.where(nodata, 0, label)
        else:
            label = read_image(path, 'unchanged', self.backend_args,
                               self.imdecode_backend)
        if label.ndim == 3:
            if not (label == label[..., :1]).all():
                raise ValueError(f'change label {path} has {label.shape[2]} '
                                 'channels that differ; expected one')
            label = label[..., 0]
        label = self._binarise(label, path, results)
        if nodata is not None:
            label[nodata] = IGNORE_INDEX
        check_label_size(label, results, path)
        results['gt_seg_map'] = label
        results['seg_fields'].append('gt_seg_map')

    @staticmethod
    def _binarise(label: np.ndarray, path: str, results: dict) -> np.ndarray:
        """{0, 255} or {0, 1} (or ``>= label_threshold``) -> uint8 {0, 1}."""
        threshold = results.get('label_threshold')
        if threshold is not None:
            return (label >= threshold).astype(np.uint8)
        values = np.unique(label)
        if not (set(values) <= {0, 255} or set(values) <= {0, 1}):
            raise ValueError(
                f'change label {path} has values {values.tolist()[:10]}; '
                'expected {0, 255} or {0, 1}')
        return (label > 0).astype(np.uint8)
