"""Reading images and labels with errors that name the file."""
from typing import Optional

import mmcv
import numpy as np
from mmengine import fileio


def read_image(path: str, color_type: str,
               backend_args: Optional[dict] = None,
               imdecode_backend: str = 'cv2',
               channel_order: str = 'bgr') -> np.ndarray:
    """Read an image file; a clear error names it if it cannot be decoded.

    Returns:
        np.ndarray: (H, W) or (H, W, C), colour images in ``channel_order``.
    """
    img_bytes = fileio.get(path, backend_args=backend_args)
    try:
        img = mmcv.imfrombytes(img_bytes, flag=color_type,
                               channel_order=channel_order,
                               backend=imdecode_backend)
    except Exception as e:  # Pillow raises, cv2 returns None
        raise ValueError(f'cannot decode image {path}: {e}') from e
    if img is None:
        raise ValueError(f'cannot decode image {path} (not an image, or '
                         'truncated)')
    return img


def check_label_size(label: np.ndarray, results: dict, path: str) -> None:
    """Raise, naming both files, when a label's (H, W) differs from the
    image's ``ori_shape`` (set by the image loading transforms)."""
    ori_shape = results.get('ori_shape')
    if ori_shape is not None and tuple(label.shape[:2]) != tuple(
            ori_shape[:2]):
        raise ValueError(
            f'label {path} is {label.shape[0]}x{label.shape[1]} (HxW) but '
            f"its image {results.get('img_path')} is "
            f'{ori_shape[0]}x{ori_shape[1]}')
