"""One convention for the channel order of rasters read with rasterio.

A PNG pair goes through cv2, which gives colour images as BGR, and the
change configs' preprocessors turn that into RGB (``bgr_to_rgb=True``). A
3-band GeoTIFF read by rasterio comes in band order (R, G, B for an RGB
orthophoto). So that a model trained on PNGs sees the same thing from a
GeoTIFF of the same picture, 3-band rasters are handed to the pipeline
reversed (B, G, R), exactly as cv2 would hand the PNG. Any other band count
(1, 4, 13, ...) stays in band order, and its config must set
``bgr_to_rgb=False``. Values are never rescaled: uint16 stays in its digital
numbers, and the config's ``mean``/``std`` are given in those units.
"""
from typing import List, Optional, Sequence

import numpy as np


def parse_bands(spec: Optional[str]) -> Optional[List[int]]:
    """``'1,2,3'`` -> ``[1, 2, 3]`` (1-based, as in GDAL); None stays None.

    Raises:
        ValueError: if ``spec`` is not a comma-separated list of integers
            >= 1.
    """
    if spec is None:
        return None
    try:
        bands = [int(b) for b in str(spec).split(',') if b.strip()]
    except ValueError:
        raise ValueError(f'--bands {spec!r}: expected 1-based band numbers '
                         'separated by commas, e.g. 1,2,3') from None
    if not bands or min(bands) < 1:
        raise ValueError(f'--bands {spec!r}: band numbers start at 1')
    return bands


def loader_band_order(bands: Sequence[int]) -> List[int]:
    """The 1-based ``bands`` in the order the pipeline takes them (read
    straight into an (H, W, C) buffer, no copy: see ``RasterPair.read``).
    """
    return list(bands)[::-1] if len(bands) == 3 else list(bands)


def to_loader_order(bands: np.ndarray) -> np.ndarray:
    """Band-major raster data -> the (H, W, C) array the pipeline expects.

    Args:
        bands (np.ndarray): (C, H, W), as ``rasterio``'s ``read`` returns.

    Returns:
        np.ndarray: (H, W, C), contiguous; channels reversed when C == 3.
    """
    assert bands.ndim == 3, f'expected (C, H, W), got shape {bands.shape}'
    if bands.shape[0] == 3:
        bands = bands[::-1]
    return np.ascontiguousarray(bands.transpose(1, 2, 0))
