"""Change regions of a change raster as polygons, block by block.

Each block's changed pixels are labelled by 4-connected piece (OpenCV)
and the pieces polygonised (``rasterio.features.shapes``, 4-connected as
GDAL's default). A piece that does not reach an inner block border is a
whole region and is written at once. The others are joined where pixels
of two pieces face each other across a border (an edge shared, not just
a corner: diagonal pixels are not 4-connected), read off the labels on
either side, and a region is made whole once no piece of it reaches the
lower border of the block row last read (``block_union.py``). Only those
open regions are held: memory is bounded by a block row and the regions
crossing it, not by the scene, and the result equals polygonising the
whole raster at once. Each region is unioned once, so time grows with the
scene, not faster (merging the open regions again at every block row grows
with the square of a region that percolates across the scene;
``tools/analysis/benchmark_polygons.py`` measures it). Geometry is built in
pixel coordinates (integers, exact unions) and transformed to the scene's CRS
on output.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import shapely
from affine import Affine
from rasterio.features import shapes
from rasterio.windows import Window
from shapely.geometry import Polygon, shape

from .block_union import OpenRegions
from .grid import grid_of, open_raster
from .ground_area import ground_area

BLOCK = 2048
_CHUNK = 10000  # features per write call
DRIVERS = {'.gpkg': 'GPKG', '.geojson': 'GeoJSON', '.json': 'GeoJSON'}


def polygon_driver(path: str) -> str:
    """The OGR driver for ``path``'s extension.

    Raises:
        ValueError: for an extension other than .gpkg / .geojson.
    """
    ext = osp.splitext(str(path))[1].lower()
    if ext not in DRIVERS:
        raise ValueError(f'{path}: polygons are written as .gpkg or '
                         f'.geojson, not {ext or "no extension"}')
    return DRIVERS[ext]


def _pieces(mask: np.ndarray, c0: int,
            r0: int) -> Tuple[np.ndarray, List[Polygon]]:
    """The 4-connected pieces of a block's ``mask`` (h, w) bool: their
    labels (h, w) int32, 0 outside, and their polygons by label (placed at
    column ``c0``, row ``r0``; None for label 0)."""
    count, labels = cv2.connectedComponents(
        mask.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    pieces = [None] * count
    for geom, label in shapes(labels, mask=mask, connectivity=4,
                              transform=Affine.translation(c0, r0)):
        pieces[int(label)] = shape(geom)
    return labels, pieces


def change_regions(src, value: int = 1,
                   block: int = BLOCK) -> Iterator[Polygon]:
    """Regions of pixels equal to ``value`` in band 1 of ``src``.

    Args:
        src: An open rasterio dataset.
        value (int): The pixel value of the regions.
        block (int): Block side read at a time.

    Yields:
        Polygon: one per 4-connected region, in pixel coordinates (x =
        column, y = row), holes included.
    """
    height, width = src.height, src.width
    regions = OpenRegions(block)
    above = np.zeros(width, np.int64)  # piece ids on the last row read
    for r0 in range(0, height, block):
        r1 = min(r0 + block, height)
        top, bottom = np.zeros_like(above), np.zeros_like(above)
        left_of = None  # piece ids on the last column of the block before
        for c0 in range(0, width, block):
            c1 = min(c0 + block, width)
            data = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            mask = data == value
            if not mask.any():
                left_of = None
                continue
            labels, pieces = _pieces(mask, c0, r0)
            # the lines of pixels on the block's inner borders
            none = labels[:0, 0]
            lines = [labels[0] if r0 else none,
                     labels[-1] if r1 < height else none,
                     labels[:, 0] if c0 else none,
                     labels[:, -1] if c1 < width else none]
            ids = np.zeros(len(pieces), np.int64)
            for label in np.unique(np.concatenate(lines)).tolist():
                if label:
                    ids[label] = regions.add(pieces[label])
            for label in np.flatnonzero(ids[1:] == 0).tolist():
                yield pieces[label + 1]  # a whole region
            top[c0:c1], bottom[c0:c1] = ids[labels[0]], ids[labels[-1]]
            if left_of is not None:
                regions.join(left_of, ids[labels[:, 0]])
            left_of = ids[labels[:, -1]]
        regions.join(above, top)
        above = bottom if r1 < height else np.zeros_like(bottom)
        yield from regions.close(above)


class PairCodes:
    """A from-class and a to-class raster read as one band of codes
    ``from * 256 + to`` where change is (from 1..254), else 0: what
    :func:`change_regions` reads for the regions of one from-to pair.

    Args:
        frm, to: Open rasterio datasets on one grid (0 no change, 255
            nodata).
    """

    def __init__(self, frm, to):
        self.sources = frm, to
        self.height, self.width = frm.height, frm.width

    def read(self, band: int, window: Window) -> np.ndarray:
        f, t = (s.read(band, window=window).astype(np.int32)
                for s in self.sources)
        return np.where((f > 0) & (f < 255), f * 256 + t, 0)

    def present(self, block: int = BLOCK) -> List[int]:
        """The codes that occur, in one pass of ``block`` rows."""
        found = set()
        for r0 in range(0, self.height, block):
            codes = self.read(1, Window(0, r0, self.width,
                                        min(block, self.height - r0)))
            found.update(np.unique(codes).tolist())
        return sorted(found - {0})


def _regions(src, classes: Optional[Sequence[str]],
             block: int) -> Iterator[Tuple[Polygon, Optional[tuple]]]:
    """(region, None) of the changed pixels of ``src``; with ``classes``
    (the from-class and to-class rasters) (region, (from, to) names) of
    each from-to pair's pixels, names from the rasters' ``CLASS_NAMES``
    tag (the class index where it has none)."""
    if classes is None:
        for region in change_regions(src, 1, block):
            yield region, None
        return
    with open_raster(classes[0]) as frm, open_raster(classes[1]) as to:
        names = frm.tags().get('CLASS_NAMES', '').split(',')
        codes = PairCodes(frm, to)
        for code in codes.present(block):
            pair = tuple(names[i] if i < len(names) else str(i)
                         for i in divmod(code, 256))
            for region in change_regions(codes, code, block):
                yield region, pair


def write_polygons(change_path: str, out_path: str, min_area: float = 0.0,
                   block: int = BLOCK,
                   classes: Optional[Sequence[str]] = None) -> int:
    """Polygonise the changed pixels (value 1) of a change raster.

    Writes ``out_path`` (GeoPackage or GeoJSON, by extension) in the
    raster's CRS, one feature per region with ``pixels`` (its pixel count)
    and ``area_m2``: its pixel count times the ground area of a pixel at
    its centre (``ground_area.py``: right in any CRS, Web Mercator and
    geographic ones included); null without a CRS. The file appears under
    its name only when complete.

    Args:
        change_path (str): Change raster (1 changed, 0 not, 255 nodata).
        out_path (str): ``.gpkg`` or ``.geojson``.
        min_area (float): Regions smaller than this are dropped: m^2, or
            pixels without a CRS.
        block (int): Block side read at a time.
        classes (Sequence[str], optional): The policy: None polygonises
            the changed pixels; the paths of a semantic change run's
            from-class and to-class rasters (``apis/scd_scene.py``)
            polygonise the pixels of each from-to pair apart, with the
            class names as ``from`` and ``to`` fields.

    Returns:
        int: the number of regions written.
    """
    import pyogrio.raw
    driver = polygon_driver(out_path)
    stem, ext = osp.splitext(str(out_path))
    partial = f'{stem}.partial{ext}'  # GDAL wants the extension
    if osp.exists(partial):
        os.remove(partial)
    src = open_raster(change_path)
    with src:
        areas = ground_area(grid_of(src))
        t = src.transform

        def to_crs(xy):  # pixel (col, row) -> the raster's CRS
            x, y = xy[:, 0], xy[:, 1]
            return np.column_stack((t.a * x + t.b * y + t.c,
                                    t.d * x + t.e * y + t.f))

        crs = src.crs.to_wkt() if src.crs else None
        written = 0
        chunk: List[Tuple[Polygon, int, float, Optional[tuple]]] = []

        def flush(final=False):
            nonlocal written
            if not chunk and (written or not final):
                return
            geoms = shapely.transform(
                np.array([c[0] for c in chunk], dtype=object), to_crs)
            fields = [np.array([c[1] for c in chunk], np.int64),
                      np.array([c[2] for c in chunk], np.float64)]
            names = ['pixels', 'area_m2']
            if classes is not None:
                fields += [np.array([c[3][i] for c in chunk], object)
                           for i in range(2)]
                names += ['from', 'to']
            pyogrio.raw.write(
                partial, shapely.to_wkb(geoms), fields, names, driver=driver,
                geometry_type='Polygon', crs=crs, layer='changes',
                append=written > 0)
            written += len(chunk)
            chunk.clear()

        for region, pair in _regions(src, classes, block):
            pixels = int(round(region.area))
            x0, y0, x1, y1 = region.bounds
            area = (np.nan if areas is None else
                    pixels * areas.pixel((y0 + y1) / 2, (x0 + x1) / 2))
            if (pixels if areas is None else area) < min_area:
                continue
            chunk.append((region, pixels, area, pair))
            if len(chunk) >= _CHUNK:
                flush()
        flush(final=True)
    os.replace(partial, out_path)
    return written
