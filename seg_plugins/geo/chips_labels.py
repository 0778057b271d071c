"""Change labels of a scene, read window by window on date A's grid: a
raster (0/1 or 0/255, its nodata ignored) or polygons of the changes."""
from typing import Tuple

import numpy as np

from .grid import check_same_grid, open_raster


class ChipError(ValueError):
    """Bad input to the chip converter: the message names the file."""


def read_polygons(path: str, crs) -> list:
    """The polygons of a vector file (any OGR format), in ``crs``.

    A file without a CRS is taken to be in ``crs`` (with a warning).

    Returns:
        list: shapely geometries.
    """
    try:
        from pyogrio.raw import read
    except ImportError:
        raise ChipError(f'{path}: reading polygons needs pyogrio '
                        '(pip install -r requirements.txt)') from None
    import shapely
    from rasterio.warp import transform_geom
    try:
        meta, _, wkb, _ = read(path, read_geometry=True, columns=[])
    except Exception as e:  # pyogrio's DataSourceError and friends
        raise ChipError(f'cannot read polygons from {path}: {e}') from None
    geoms = [g for g in shapely.from_wkb(wkb) if g is not None]
    src_crs = meta.get('crs')
    if src_crs is None:
        print(f'warning: {path} has no CRS; taking its coordinates to be in '
              "A's CRS")
    elif crs is not None:
        geoms = [
            shapely.geometry.shape(
                transform_geom(src_crs, crs, shapely.geometry.mapping(g)))
            for g in geoms
        ]
    return geoms


class RasterLabel:
    """A label raster on A's grid: 0/1 or 0/255, nodata ignored.

    Args:
        path (str): The label raster.
        src_a: Date A's open dataset, whose grid the label must share.
        name_a (str): A's path, for messages.
    """

    def __init__(self, path: str, src_a, name_a: str):
        self.path = path
        self.src = open_raster(path)
        check_same_grid(src_a, self.src, name_a, path,
                        hint="the label raster must be on A's grid")

    def read(self, window) -> Tuple[np.ndarray, np.ndarray]:
        """Returns: label (h, w) uint8 0/1, nodata mask (h, w) bool."""
        band = self.src.read(1, window=window, masked=True)
        nodata = np.ma.getmaskarray(band)
        label = np.where(nodata, 0, np.asarray(band.data))
        values = set(np.unique(label).tolist())
        if not (values <= {0, 1} or values <= {0, 255}):
            raise ChipError(f'change label {self.path} has values '
                            f'{sorted(values)[:10]}; expected 0/1 or 0/255 '
                            '(and its nodata)')
        return (label > 0).astype(np.uint8), nodata

    def close(self):
        self.src.close()


class PolygonLabel:
    """Change polygons rasterised onto each window of A's grid: a pixel is
    changed when its centre lies in a polygon.

    Args:
        path (str): The vector file, reprojected to A's CRS.
        src_a: Date A's open dataset.
    """

    def __init__(self, path: str, src_a):
        import shapely
        self.geoms = read_polygons(path, src_a.crs)
        self.tree = shapely.STRtree(self.geoms)
        self.src_a = src_a

    def read(self, window) -> Tuple[np.ndarray, np.ndarray]:
        """Returns: label (h, w) uint8 0/1, nodata mask (h, w) bool (none
        without data: polygons cover what they cover)."""
        from rasterio.features import rasterize
        from rasterio.windows import bounds
        from rasterio.windows import transform as window_transform
        from shapely.geometry import box
        shape = (int(window.height), int(window.width))
        hits = self.tree.query(box(*bounds(window, self.src_a.transform)))
        label = np.zeros(shape, np.uint8)
        if len(hits):
            label = rasterize(
                ((self.geoms[i], 1) for i in hits), out_shape=shape,
                transform=window_transform(window, self.src_a.transform),
                fill=0, dtype='uint8')
        return label, np.zeros(shape, bool)

    def close(self):
        pass
