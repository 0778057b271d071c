"""Change regions of a change raster as polygons, block by block.

Each block is polygonised on its own (``rasterio.features.shapes``, 4-
connected as GDAL's default). A piece that does not reach an inner block
border is a whole region and is written at once. Pieces that reach a
border are merged with the pieces they share an edge with (not just a
corner: diagonal pixels are not 4-connected) by a union per connected
component. Merging goes one block row at a time, so only the regions still
open at the current row's lower border are held: memory is bounded by a
block row, not by the scene, and the result equals polygonising the whole
raster at once. Geometry is built in pixel coordinates (integers, exact
unions) and transformed to the scene's CRS on output.
"""
import os
import os.path as osp
from typing import Iterator, List, Tuple

import numpy as np
import shapely
from affine import Affine
from rasterio.features import shapes
from rasterio.windows import Window
from shapely.geometry import Polygon, shape

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


def _merge(pieces: List[Polygon]) -> List[Polygon]:
    """Union the pieces that share an edge, per connected component."""
    if len(pieces) < 2:
        return pieces
    tree = shapely.STRtree(pieces)
    parent = list(range(len(pieces)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    left, right = tree.query(pieces, predicate='intersects')
    for i, j in zip(left.tolist(), right.tolist()):
        if i < j and find(i) != find(j) and pieces[i].intersection(
                pieces[j]).length > 0:
            parent[find(i)] = find(j)
    groups = {}
    for i in range(len(pieces)):
        groups.setdefault(find(i), []).append(pieces[i])
    merged = []
    for group in groups.values():
        union = group[0] if len(group) == 1 else shapely.union_all(group)
        merged.extend(getattr(union, 'geoms', [union]))
    return merged


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
    still_open: List[Polygon] = []
    for r0 in range(0, height, block):
        r1 = min(r0 + block, height)
        border = list(still_open)
        for c0 in range(0, width, block):
            c1 = min(c0 + block, width)
            data = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            mask = data == value
            if not mask.any():
                continue
            for geom, _ in shapes(mask.view(np.uint8), mask=mask,
                                  transform=Affine.translation(c0, r0)):
                piece = shape(geom)
                x0, y0, x1, y1 = piece.bounds
                if ((x0 == c0 > 0) or (y0 == r0 > 0) or (x1 == c1 < width)
                        or (y1 == r1 < height)):
                    border.append(piece)
                else:
                    yield piece
        still_open = []
        for region in _merge(border):
            if region.bounds[3] == r1 < height:
                still_open.append(region)  # may go on in the next row
            else:
                yield region
    yield from still_open


def write_polygons(change_path: str, out_path: str, min_area: float = 0.0,
                   block: int = BLOCK) -> int:
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
        chunk: List[Tuple[Polygon, int, float]] = []

        def flush(final=False):
            nonlocal written
            if not chunk and (written or not final):
                return
            geoms = shapely.transform(
                np.array([g for g, _, _ in chunk], dtype=object), to_crs)
            pixels = np.array([p for _, p, _ in chunk], np.int64)
            area = np.array([a for _, _, a in chunk], np.float64)
            pyogrio.raw.write(
                partial, shapely.to_wkb(geoms),
                [pixels, area], ['pixels', 'area_m2'], driver=driver,
                geometry_type='Polygon', crs=crs, layer='changes',
                append=written > 0)
            written += len(chunk)
            chunk.clear()

        for region in change_regions(src, 1, block):
            pixels = int(round(region.area))
            x0, y0, x1, y1 = region.bounds
            area = (np.nan if areas is None else
                    pixels * areas.pixel((y0 + y1) / 2, (x0 + x1) / 2))
            if (pixels if areas is None else area) < min_area:
                continue
            chunk.append((region, pixels, area))
            if len(chunk) >= _CHUNK:
                flush()
        flush(final=True)
    os.replace(partial, out_path)
    return written
