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
from typing import List, Optional, Sequence, Tuple, Union

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
              mask: Optional[Tuple[str, Sequence[int]]] = None) -> str:
    """A VRT (XML text, which GDAL opens as it would a file) of every band
    of ``paths`` in order, on the grid of the first.

    Args:
        mask (tuple, optional): (classification file, its classes that are
            not data): the stack's mask (nodata for the whole date) where
            band 1 of that file holds one of those classes (resampled
            nearest), e.g. Sentinel-2's scene classification (SCL).

    Raises:
        ValueError: naming a file that cannot be read, whose CRS differs
            from the first's, that is rotated, or whose data type differs.
    """
    from .grid import open_raster
    with open_raster(paths[0]) as first:
        crs, t0, dtype = first.crs, first.transform, first.dtypes[0]
        root = ET.Element('VRTDataset', rasterXSize=str(first.width),
                          rasterYSize=str(first.height))
    if crs is not None:
        ET.SubElement(root, 'SRS').text = crs.to_wkt()
    ET.SubElement(root, 'GeoTransform').text = ', '.join(
        repr(float(v)) for v in t0.to_gdal())
    count = 0
    for path in paths:
        with open_raster(path) as src:
            t = src.transform
            if src.crs != crs:
                raise ValueError(f'{path}: CRS {src.crs} is not that of '
                                 f'{paths[0]} ({crs}): bands of one date '
                                 'must share a CRS')
            if t.b or t.d or t0.b or t0.d:
                raise ValueError(f'{path}: a rotated grid cannot be '
                                 'stacked')
            if set(src.dtypes) != {dtype}:
                raise ValueError(f'{path}: data type {src.dtypes[0]}, but '
                                 f'{paths[0]} has {dtype}: bands of one '
                                 'date must share one')
            # The file's extent in the first file's pixels.
            dst = dict(xOff=(t.c - t0.c) / t0.a, yOff=(t.f - t0.f) / t0.e,
                       xSize=src.width * t.a / t0.a,
                       ySize=src.height * t.e / t0.e)
            for b in range(1, src.count + 1):
                count += 1
                _band(root, count, dtype, gdal_path(path), b, src, dst,
                      resampling)
    if mask is not None:
        _mask_band(root, t0, *mask)
    return ET.tostring(root, encoding='unicode')


def _mask_band(root, t0, path: str, classes: Sequence[int]) -> None:
    """The dataset mask: 0 where ``path``'s band 1 is one of ``classes``
    (a lookup table over 0..255), 255 elsewhere."""
    from .grid import open_raster
    with open_raster(path) as src:
        t = src.transform
        if not src.dtypes[0].startswith('uint8'):
            raise ValueError(f'{path}: a classification mask must be '
                             f'uint8, not {src.dtypes[0]}')
        dst = dict(xOff=(t.c - t0.c) / t0.a, yOff=(t.f - t0.f) / t0.e,
                   xSize=src.width * t.a / t0.a,
                   ySize=src.height * t.e / t0.e)
        node = ET.SubElement(ET.SubElement(root, 'MaskBand'),
                             'VRTRasterBand', dataType='Byte')
        source = ET.SubElement(node, 'ComplexSource', resampling='nearest')
        ET.SubElement(source, 'SourceFilename',
                      relativeToVRT='0').text = gdal_path(path)
        ET.SubElement(source, 'SourceBand').text = '1'
        ET.SubElement(source, 'SrcRect', xOff='0', yOff='0',
                      xSize=str(src.width), ySize=str(src.height))
        ET.SubElement(source, 'DstRect',
                      **{k: repr(float(v)) for k, v in dst.items()})
        masked = set(int(c) for c in classes)
        ET.SubElement(source, 'LUT').text = ','.join(
            f'{v}:{0 if v in masked else 255}' for v in range(256))


def _band(root, number, dtype, path, band, src, dst, resampling) -> None:
    """Band ``number`` of the VRT: ``band`` of ``src`` at ``dst``."""
    node = ET.SubElement(root, 'VRTRasterBand', dataType=_gdal_type(dtype),
                         band=str(number))
    nodata = src.nodata
    if nodata is not None:
        ET.SubElement(node, 'NoDataValue').text = repr(float(nodata))
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


def _gdal_type(dtype: str) -> str:
    from rasterio.dtypes import _gdal_typename
    return _gdal_typename(dtype)


def date_source(spec: DateSpec) -> str:
    """What GDAL opens for a date: the file's GDAL name, or the VRT of
    several (or of a STAC date with its mask)."""
    files = date_files(spec)
    if getattr(spec, 'mask', None):
        return stack_vrt(files, mask=spec.mask)
    return gdal_path(files[0]) if len(files) == 1 else stack_vrt(files)
