"""Overview levels of a single-band uint8 raster, built in numpy, chunk by
chunk, and handed to GDAL's COG driver as existing overviews.

The COG driver builds missing overviews itself, and for a band with a mask
and 'average' resampling that is most of the cost of publishing a
probability COG (the mask gets its own pass and both go through compressed
temporary files). Halving 2x2 blocks in numpy gives GDAL's pixels (within 1
in the tests) in less time, and this pass runs after the model has
finished, so it is pure wait.

Each level halves the one above (sizes rounded up, as gdaladdo does): an
overview pixel covers a 2x2 block of the level above, cut short at the
right and bottom edges. ``nearest`` keeps the block's top-left pixel (for
classes and nodata values); ``average`` is the mean of the block's valid
pixels, rounded half up, and valid where any of them is.
"""
import os.path as osp
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from typing import List, Optional, Tuple

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window

CHUNK = 1024  # rows and columns of the level above read at a time (even)


def _half(n: int) -> int:
    """A side one level down (rounded up)."""
    return -(-n // 2)


def overview_sizes(height: int, width: int,
                   smallest: int) -> List[Tuple[int, int]]:
    """(height, width) of each level below full resolution, halving until
    both sides are at most ``smallest`` (the COG driver's rule)."""
    sizes = []
    while height > smallest or width > smallest:
        height, width = _half(height), _half(width)
        sizes.append((height, width))
    return sizes


def _sum_2x2(a: np.ndarray, dtype) -> np.ndarray:
    """(ceil(h/2), ceil(w/2)) sums of the 2x2 blocks of ``a`` (h, w)."""
    out = a[0::2, 0::2].astype(dtype)
    for dr, dc in ((1, 0), (0, 1), (1, 1)):
        part = a[dr::2, dc::2]
        out[:part.shape[0], :part.shape[1]] += part
    return out


def halve(data: np.ndarray, valid: Optional[np.ndarray], resampling: str
          ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """One level down.

    Args:
        data (np.ndarray): (h, w) uint8.
        valid (np.ndarray, optional): (h, w) bool; None: all valid.
        resampling (str): 'nearest' or 'average'.

    Returns:
        tuple: (ceil(h/2), ceil(w/2)) uint8 data and bool validity (None
        when ``valid`` is None).
    """
    if resampling == 'nearest':
        return (data[0::2, 0::2].copy(),
                None if valid is None else valid[0::2, 0::2].copy())
    if resampling != 'average':
        raise ValueError(f"resampling must be 'nearest' or 'average', got "
                         f'{resampling!r}')
    if valid is None:
        valid = np.ones(data.shape, bool)
    total = _sum_2x2(np.where(valid, data, 0), np.uint16)
    count = _sum_2x2(valid.view(np.uint8), np.uint8)
    any_valid = count > 0
    total += count >> 1  # round half up; a block with none stays 0
    np.floor_divide(total, count, out=total, where=any_valid)
    return total.astype(np.uint8), any_valid


def _create(path: str, height: int, width: int, transform: Affine):
    return rasterio.open(path, 'w', driver='GTiff', dtype='uint8', count=1,
                         width=width, height=height, tiled=True,
                         blockxsize=256, blockysize=256, transform=transform,
                         bigtiff='if_safer')


def build_levels(src_path: str, level_paths: List[str],
                 mask_paths: Optional[List[str]], resampling: str) -> None:
    """Write the overview levels of ``src_path``'s band 1, each halving
    the one before, ``CHUNK`` x ``CHUNK`` pixels of it at a time (memory:
    a chunk, whatever the raster's size).

    Args:
        src_path (str): Full-resolution uint8 GeoTIFF.
        level_paths (list[str]): One uncompressed GeoTIFF per level
            (``overview_sizes``' count); with ``mask_paths``, each holds
            its level's validity as an internal mask too.
        mask_paths (list[str], optional): The validity of each level again,
            as a 0/255 band: a VRT's mask band takes its overviews from
            bands (see :func:`vrt_with_overviews`). None: the band has no
            mask.
        resampling (str): 'nearest' or 'average' (see :func:`halve`).
    """
    above_path = src_path
    for i, path in enumerate(level_paths):
        with ExitStack() as files:
            above = files.enter_context(rasterio.open(above_path))
            h, w = _half(above.height), _half(above.width)
            transform = above.transform @ Affine.scale(above.width / w,
                                                       above.height / h)
            level = files.enter_context(_create(path, h, w, transform))
            mask = (None if mask_paths is None else files.enter_context(
                _create(mask_paths[i], h, w, transform)))
            for r in range(0, above.height, CHUNK):
                for c in range(0, above.width, CHUNK):
                    win = Window(c, r, min(CHUNK, above.width - c),
                                 min(CHUNK, above.height - r))
                    valid = (None if mask is None else
                             above.read_masks(1, window=win) > 0)
                    data, valid = halve(above.read(1, window=win), valid,
                                        resampling)
                    out = Window(c // 2, r // 2, data.shape[1],
                                 data.shape[0])
                    level.write(data, 1, window=out)
                    if mask is not None:
                        mask_band = valid.view(np.uint8) * np.uint8(255)
                        level.write_mask(mask_band, window=out)
                        mask.write(mask_band, 1, window=out)
        above_path = path


def _overview(band: ET.Element, path: str) -> None:
    node = ET.SubElement(band, 'Overview')
    name = ET.SubElement(node, 'SourceFilename', relativeToVRT='0')
    name.text = osp.abspath(path)
    ET.SubElement(node, 'SourceBand').text = '1'


def vrt_with_overviews(src_path: str, vrt_path: str, level_paths: List[str],
                       mask_paths: Optional[List[str]]) -> None:
    """A VRT of ``src_path`` (GDAL's own, georeferencing and nodata
    included) whose band, and mask band with ``mask_paths``, list the
    levels as overviews: the COG driver then copies them instead of
    building its own.

    GDAL 3.10's COG driver copies each level's validity from the overview
    band's own mask (hence the internal masks of ``level_paths``), and
    builds mask overviews of its own unless the mask band has some (hence
    ``mask_paths``, which hold the same validity, so either way the masks
    are these).
    """
    rasterio.shutil.copy(src_path, vrt_path, driver='VRT')
    tree = ET.parse(vrt_path)
    band = tree.getroot().find('VRTRasterBand')
    for path in level_paths:
        _overview(band, path)
    if mask_paths is not None:
        mask_band = tree.getroot().find('MaskBand/VRTRasterBand')
        if mask_band is None:
            raise ValueError(f'{src_path} has no mask band to give '
                             'overviews to')
        for path in mask_paths:
            _overview(mask_band, path)
    tree.write(vrt_path)
