"""Reading whole rasters (chips) through rasterio with errors that name the
file, as the pipeline's loaders take them."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmengine import fileio

from .bands import to_loader_order

# Read through rasterio (GDAL) rather than cv2 by LoadImagePairFromFile's
# 'auto' reader: multi-band and uint16 GeoTIFFs, which cv2 cannot give.
RASTER_SUFFIXES = ('.tif', '.tiff', '.jp2', '.img', '.vrt')


def is_raster_path(path: str) -> bool:
    """Whether ``path`` has a suffix read through rasterio by default."""
    return str(path).lower().endswith(RASTER_SUFFIXES)


def _open_raster(path: str, backend_args: Optional[dict]):
    """``rasterio.open`` of a local path, or of the bytes of a remote one
    (mmengine file backends); errors name the file."""
    import rasterio
    from rasterio.errors import RasterioIOError
    try:
        if backend_args is None:
            return rasterio.open(path)
        data = fileio.get(path, backend_args=backend_args)
        return rasterio.MemoryFile(data).open()
    except RasterioIOError as e:
        raise ValueError(f'cannot read {path} as a raster (not a '
                         f'GDAL-readable image, truncated or missing): '
                         f'{e}') from None


def read_raster(path: str, bands: Optional[Sequence[int]] = None,
                backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a whole raster (a chip) with rasterio, values and dtype kept,
    but 0 where a band holds no data (nodata value, mask, NaN), as scene
    inference shows it to the model (:mod:`seg_plugins.geo.nodata`).

    Args:
        path (str): Any GDAL-readable raster.
        bands (Sequence[int], optional): 1-based bands; None: all.

    Returns:
        np.ndarray: (H, W, C) in the loader's channel order
        (:func:`seg_plugins.geo.to_loader_order`: 3 bands reversed to BGR
        as cv2 gives them, others in band order).
    """
    # Imported here: loaders of PNG datasets never import rasterio.
    from .nodata import all_valid, zero_nodata
    with _open_raster(path, backend_args) as src:
        if bands is not None and max(bands) > src.count:
            raise ValueError(f'{path} has {src.count} band(s); bands '
                             f'{list(bands)} asked for')
        bands = list(bands) if bands is not None else list(
            range(1, src.count + 1))
        try:
            data = src.read(bands)
            masks = None if all_valid(src, bands) else src.read_masks(
                bands)
        except Exception as e:  # rasterio raises its own error types
            raise ValueError(f'cannot read the pixels of {path}: {e}') from e
    zero_nodata(data, masks)
    return to_loader_order(data)


def read_raster_label(path: str, backend_args: Optional[dict] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """Read band 1 of a label raster and where it is nodata.

    Returns:
        tuple: the label (H, W) in the raster's dtype, and a bool (H, W)
        mask, True where the raster declares nodata (or masks the pixel).
    """
    with _open_raster(path, backend_args) as src:
        try:
            label = src.read(1, masked=True)
        except Exception as e:
            raise ValueError(f'cannot read the pixels of {path}: {e}') from e
    return np.asarray(label.data), np.ma.getmaskarray(label)
