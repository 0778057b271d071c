"""What the model sees where a raster holds no value: 0.

A stored nodata value is not a measurement: NaN spreads through every
convolution whose window touches it (a 10x10 NaN hole turned a 56x56
square of valid pixels around it to 'unchanged' with a 3-stage U-Net),
and a sentinel such as 65535 or -9999 is far outside the data's range.
So wherever a band holds no value (GDAL's per-band mask: nodata value,
alpha band or internal mask; and any non-finite float) the model is
given 0, as it is outside the scene where tiles are padded. Training
(``LoadImagePairFromFile``) and inference (``RasterPair``) do the same,
so the model learns what it is later shown.
"""
from typing import Optional, Sequence

import numpy as np
from rasterio.enums import MaskFlags


def all_valid(src, bands: Sequence[int]) -> bool:
    """Whether GDAL declares every pixel of ``bands`` (1-based) of the
    open dataset ``src`` valid: no nodata value, mask or alpha band, so
    that its masks need not be read."""
    return all(src.mask_flag_enums[b - 1] == [MaskFlags.all_valid]
               for b in bands)


def has_data(img: np.ndarray,
             masks: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """Where ``img`` holds data: not masked, and finite in float data.

    Args:
        img (np.ndarray): Band values, any layout.
        masks (np.ndarray, optional): GDAL's masks in ``img``'s layout
            (0 where the band has no value); None: every value is data.

    Returns:
        np.ndarray or None: bool in ``img``'s layout, True where a value is
        data; None when every value is.
    """
    kept = None if masks is None else masks != 0
    if img.dtype.kind in 'fc':
        finite = np.isfinite(img)
        if not finite.all():
            kept = finite if kept is None else kept & finite
    return kept


def zero_nodata(img: np.ndarray,
                masks: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """Set to 0, in place, every value that holds no data
    (:func:`has_data`).

    Returns:
        np.ndarray or None: :func:`has_data` of ``img`` as it was.
    """
    kept = has_data(img, masks)
    if kept is not None:
        img[~kept] = 0
    return kept
