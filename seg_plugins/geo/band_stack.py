"""A date given as several files (one per band, as Sentinel-2 and
Landsat are served), stacked into one raster by a VRT that GDAL builds
in memory: no ``gdalbuildvrt``, nothing written.

A date is written ``B04.tif,B03.tif,B02.tif,B08.tif`` (the bands in that
order), or as a ``.txt`` list with a file a line (relative to the list's
folder). The stack is on the grid of the first file; a file at another
resolution (Sentinel-2's 20 m bands under a 10 m one) is resampled onto
it by ``RESAMPLING`` as it is read.
"""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from affine import Affine
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from .remote import gdal_path, is_remote

# Continuous reflectances: bilinear, as ``--align`` resamples date B.
RESAMPLING = 'bilinear'

DateSpec = Union[str, Sequence[str]]


def date_files(spec: DateSpec) -> List[str]:
    """The files of a date: ``spec`` itself, its comma-separated parts,
    or the lines of a ``.txt`` list (blank lines and ``#`` comments
    skipped).

    Raises:
        ValueError: a list file that names no file.
    """
    if hasattr(spec, 'files'):  # a date of a STAC item (stac.py)
        return list(spec.files)
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        return [str(p) for p in spec]
    if not is_remote(spec) and spec.lower().endswith('.txt'):
        with open(spec) as f:
            lines = [line.strip() for line in f]
        files = [p if is_remote(p) or osp.isabs(p) else
                 osp.join(osp.dirname(spec), p)
                 for p in lines if p and not p.startswith('#')]
        if not files:
            raise ValueError(f'{spec}: names no band file')
        return files
    if ',' in spec and not osp.exists(spec):
        return [p.strip() for p in spec.split(',') if p.strip()]
    return [spec]


def stack_vrt(paths: Sequence[str], resampling: str = RESAMPLING,
              mask: Optional[tuple] = None,
              scales: Optional[Sequence[Sequence[Tuple[float, float]]]]
              = None, window: Optional[Window] = None) -> str:
    """A VRT (XML text, which GDAL opens as it would a file) of every band
    of ``paths`` in order, on the grid of the first.

    Args:
        mask (tuple, optional): (classification file, codes, bits): the
            stack's mask (nodata for the whole date) where band 1 of that
            file (resampled nearest) holds one of the classes ``codes``,
            e.g. Sentinel-2's scene classification (SCL), or with ``bits``
            True has one of the bits ``codes`` set, e.g. Landsat's
            QA_PIXEL. Without it, a file's own mask (internal mask or
            alpha) is the stack's.
        scales (list, optional): Per file, per band (scale, offset): the
            stored value ``v`` is read as ``v * scale + offset`` in
            float32 (computed in float64), its nodata as NaN.
        window (Window, optional): Rows and columns of the first file's
            grid to cover, instead of all of it.

    Raises:
        ValueError: naming a file that cannot be read, whose CRS differs
            from the first's, that is rotated, or whose data type differs.
    """
    from .grid import open_raster
    with open_raster(paths[0]) as first:
        crs, t0, dtype = first.crs, first.transform, first.dtypes[0]
        if window is None:
            window = Window(0, 0, first.width, first.height)
    # Offsets below are counted from the window's corner.
    t0 = t0 @ Affine.translation(window.col_off, window.row_off)
    root = ET.Element('VRTDataset', rasterXSize=str(int(window.width)),
                      rasterYSize=str(int(window.height)))
    if crs is not None:
        ET.SubElement(root, 'SRS').text = crs.to_wkt()
    ET.SubElement(root, 'GeoTransform').text = ', '.join(
        repr(float(v)) for v in t0.to_gdal())
    count = 0
    for i, path in enumerate(paths):
        with open_raster(path) as src:
            t = src.transform
            if src.crs != crs:
                raise ValueError(f'{path}: CRS {src.crs} is not that of '
                                 f'{paths[0]} ({crs}): bands of one date '
                                 'must share a CRS')
            if t.b or t.d or t0.b or t0.d:
                raise ValueError(f'{path}: a rotated grid cannot be '
                                 'stacked')
            if scales is None and set(src.dtypes) != {dtype}:
                raise ValueError(f'{path}: data type {src.dtypes[0]}, but '
                                 f'{paths[0]} has {dtype}: bands of one '
                                 'date must share one')
            dst = _extent(src, t0)
            for b in range(1, src.count + 1):
                count += 1
                scale = scales[i][b - 1] if scales is not None else None
                _band(root, count, 'float32' if scale else dtype,
                      gdal_path(path), b, src, dst, resampling, scale)
            if mask is None and i == 0 and _own_mask(src):
                _mask_source(root, gdal_path(path), src, dst, 'mask,1',
                             'nearest')
    if mask is not None:
        _mask_band(root, t0, *mask)
    return ET.tostring(root, encoding='unicode')


def _extent(src, t0) -> dict:
    """``src``'s extent in the pixels of the grid ``t0`` (a DstRect)."""
    t = src.transform
    return dict(xOff=(t.c - t0.c) / t0.a, yOff=(t.f - t0.f) / t0.e,
                xSize=src.width * t.a / t0.a, ySize=src.height * t.e / t0.e)


def _own_mask(src) -> bool:
    """Whether ``src`` has a mask of its own for the whole dataset
    (internal mask or alpha band), which a VRT does not take over
    unless told."""
    flags = src.mask_flag_enums[0]
    return MaskFlags.per_dataset in flags and MaskFlags.nodata not in flags


def _mask_source(root, path: str, src, dst: dict, band: str,
                 resampling: str):
    """The VRT's dataset mask (Byte, 0 no data), read from ``band`` of
    ``path`` at ``dst``; returns its source element."""
    node = ET.SubElement(ET.SubElement(root, 'MaskBand'),
                         'VRTRasterBand', dataType='Byte')
    source = ET.SubElement(node, 'ComplexSource', resampling=resampling)
    ET.SubElement(source, 'SourceFilename', relativeToVRT='0').text = path
    ET.SubElement(source, 'SourceBand').text = band
    ET.SubElement(source, 'SrcRect', xOff='0', yOff='0',
                  xSize=str(src.width), ySize=str(src.height))
    ET.SubElement(source, 'DstRect',
                  **{k: repr(float(v)) for k, v in dst.items()})
    return source


def _mask_band(root, t0, path: str, codes: Sequence[int],
               bits: bool = False) -> None:
    """The dataset mask: 0 where ``path``'s band 1 holds one of the
    classes ``codes`` (or, with ``bits``, has one of the bits ``codes``
    set), 255 elsewhere: a lookup table over the file's integer values,
    listing only the values on either side of a change (GDAL's LUT
    interpolates between the values it lists: exact at integers)."""
    from .grid import open_raster
    with open_raster(path) as src:
        dtype = np.dtype(src.dtypes[0])
        if dtype not in (np.uint8, np.uint16):
            raise ValueError(f'{path}: a classification mask must be '
                             f'uint8 or uint16, not {dtype}')
        source = _mask_source(root, gdal_path(path), src, _extent(src, t0),
                              '1', 'nearest')
    values = np.arange(np.iinfo(dtype).max + 1)
    if bits:
        masked = (values & sum(1 << int(b) for b in codes)) != 0
    else:
        masked = np.isin(values, [int(c) for c in codes])
    out = np.where(masked, 0, 255)
    keep = np.ones(len(out), bool)
    keep[1:-1] = (out[1:-1] != out[:-2]) | (out[1:-1] != out[2:])
    ET.SubElement(source, 'LUT').text = ','.join(
        f'{v}:{out[v]}' for v in values[keep])


def _band(root, number, dtype, path, band, src, dst, resampling,
          scale: Optional[Tuple[float, float]] = None) -> None:
    """Band ``number`` of the VRT: ``band`` of ``src`` at ``dst``, read
    as ``v * scale[0] + scale[1]`` with ``scale``."""
    node = ET.SubElement(root, 'VRTRasterBand', dataType=_gdal_type(dtype),
                         band=str(number))
    nodata = src.nodatavals[band - 1]
    if nodata is not None:
        ET.SubElement(node, 'NoDataValue').text = (
            'nan' if scale else repr(float(nodata)))
    source = ET.SubElement(node, 'ComplexSource', resampling=resampling)
    ET.SubElement(source, 'SourceFilename',
                  relativeToVRT='0').text = path
    ET.SubElement(source, 'SourceBand').text = str(band)
    ET.SubElement(source, 'SrcRect', xOff='0', yOff='0',
                  xSize=str(src.width), ySize=str(src.height))
    ET.SubElement(source, 'DstRect',
                  **{k: repr(float(v)) for k, v in dst.items()})
    if nodata is not None:
        ET.SubElement(source, 'NODATA').text = repr(float(nodata))
    if scale:
        ET.SubElement(source, 'ScaleOffset').text = repr(float(scale[1]))
        ET.SubElement(source, 'ScaleRatio').text = repr(float(scale[0]))


def _gdal_type(dtype: str) -> str:
    from rasterio.dtypes import _gdal_typename
    return _gdal_typename(dtype)


def date_source(spec: DateSpec) -> str:
    """What GDAL opens for a date: the file's GDAL name, or the VRT of
    several, or of a date with a mask, scales or a window (a STAC date,
    :class:`Windowed`)."""
    files = date_files(spec)
    extra = {k: getattr(spec, k, None) for k in ('mask', 'scales',
                                                  'window')}
    if len(files) == 1 and not any(v is not None for v in extra.values()):
        return gdal_path(files[0])
    return stack_vrt(files, **extra)


class Windowed(NamedTuple):
    """``date`` (any date: a file, band files, a STAC date) read through
    ``window``, rows and columns of its grid (its first file's): what
    GDAL opens is a VRT of that window, nothing is copied."""
    date: object
    window: Window

    @property
    def files(self) -> List[str]:
        return date_files(self.date)

    @property
    def mask(self) -> Optional[tuple]:
        return getattr(self.date, 'mask', None)

    @property
    def scales(self) -> Optional[list]:
        return getattr(self.date, 'scales', None)

    def __str__(self) -> str:  # messages name the date and the window
        w = self.window
        return (f'{self.date} (rows {w.row_off}:{w.row_off + w.height}, '
                f'columns {w.col_off}:{w.col_off + w.width})')
