"""Change map of a PNG pair (no georeferencing), held in memory: the
in-memory path of ``tools/infer.py``."""
from typing import Optional

import mmcv
import numpy as np
from torch import nn

from ..geo.cog import check_outputs
from ..utils.image_io import read_image
from .batch import InferSettings
from .change_inference import infer_change


def overlay_change(img_b: np.ndarray, change: np.ndarray,
                   alpha: float = 0.5) -> np.ndarray:
    """Image B with its changed pixels blended towards red.

    Args:
        img_b (np.ndarray): (H, W, C) uint8, BGR (C >= 3; the first three
            are drawn).
        change (np.ndarray): (H, W), nonzero where changed.
        alpha (float): Weight of red in the changed pixels.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR.
    """
    out = img_b[..., :3].astype(np.float32).copy()
    red = np.array([0, 0, 255], np.float32)
    mask = change.astype(bool)
    out[mask] = (1 - alpha) * out[mask] + alpha * red
    return out.astype(np.uint8)


def infer_png_pair(model: nn.Module, img_a: str, img_b: str, out: str,
                   prob: Optional[str] = None, overlay: Optional[str] = None,
                   settings: Optional[InferSettings] = None) -> np.ndarray:
    """Infer a PNG pair and write its change map (0/255), and its
    probability (0-255) and overlay on B when asked for; prints its
    changed share.

    Args:
        model (nn.Module): From :func:`init_change_model`.
        img_a (str): Date A, any image mmcv reads.
        img_b (str): Date B, the same size.
        out (str): Change map PNG.
        prob (str, optional): Probability PNG.
        overlay (str, optional): :func:`overlay_change` PNG.
        settings (InferSettings, optional): Its tile, overlap, batch size
            and overwrite are used.

    Returns:
        np.ndarray: The change map, (H, W) uint8 {0, 1}.

    Raises:
        FileExistsError: An output exists without ``settings.overwrite``.
        ValueError: An output is an input, or the images differ in size.
    """
    s = settings or InferSettings()
    check_outputs((out, prob, overlay), s.overwrite, (img_a, img_b))
    image_b = read_image(img_b, 'color')
    change, probability = infer_change(model, img_a, image_b, s.tile,
                                       s.overlap, s.batch_size)
    mmcv.imwrite(change * 255, out)
    if prob:
        mmcv.imwrite(probability, prob)
    if overlay:
        mmcv.imwrite(overlay_change(image_b, change), overlay)
    print(f'{out}: {int(change.sum())} of {change.size} pixels changed '
          f'({100 * change.mean():.2f}%)')
    return change
