"""A deterministic synthetic semantic change set in SECOND's layout.

Six land-cover classes, each with its own mean colour and texture; date B
turns some rectangles of date A into another class and is seen under
another illumination (gain and offset), which is not change.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

from .second_scd import SECOND_PALETTE

# Per class: BGR mean and the period (px) of its stripes; 0 = noise only.
TEXTURES = (((150, 90, 40), 0),      # water: smooth, dark blue
            ((120, 130, 140), 0),    # ground: grey, noisy
            ((60, 160, 90), 8),      # low vegetation: coarse stripes
            ((30, 110, 30), 3),      # tree: fine stripes
            ((90, 90, 170), 6),      # building: red roofs, stripes
            ((80, 170, 200), 12))    # sports field: wide stripes
SCD_SPLITS = {'train': 160, 'test': 40}


def _render(cover: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """BGR float image of a (H, W) class map (0-based land-cover ids)."""
    h, w = cover.shape
    rows, cols = np.mgrid[:h, :w]
    img = rng.normal(0, 12, (h, w, 3))
    for cls, (mean, period) in enumerate(TEXTURES):
        mask = cover == cls
        img[mask] += mean
        if period:
            stripes = 25 * np.sin(2 * np.pi * (rows + cols) / period)
            img[mask] += stripes[mask, None]
    return img


def scd_sample(seed: int, index: int, size: int = 64
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pair: BGR uint8 images (H, W, 3) and from/to index maps (H, W)
    (0 = no change, 1..6 SECOND's classes)."""
    rng = np.random.default_rng([seed, index])
    n = len(TEXTURES)
    cover_a = np.full((size, size), rng.integers(n), np.int64)
    for _ in range(rng.integers(3, 7)):
        y, x = rng.integers(0, size - 8, 2)
        hh, ww = rng.integers(8, size // 2, 2)
        cover_a[y:y + hh, x:x + ww] = rng.integers(n)
    cover_b = cover_a.copy()
    for _ in range(rng.integers(1, 4)):
        y, x = rng.integers(0, size - 8, 2)
        hh, ww = rng.integers(6, size // 3, 2)
        region = (slice(y, y + hh), slice(x, x + ww))
        old = np.bincount(cover_a[region].ravel(), minlength=n).argmax()
        new = (old + rng.integers(1, n)) % n
        cover_b[region] = new
    changed = cover_a != cover_b
    img_a = _render(cover_a, rng)
    gain, offset = rng.uniform(0.75, 1.25), rng.uniform(-25, 25)
    img_b = _render(cover_b, rng) * gain + offset
    label1 = np.where(changed, cover_a + 1, 0).astype(np.uint8)
    label2 = np.where(changed, cover_b + 1, 0).astype(np.uint8)
    to_u8 = lambda im: np.clip(im, 0, 255).astype(np.uint8)  # noqa: E731
    return to_u8(img_a), to_u8(img_b), label1, label2


def make_scd_dataset(out_dir: str, splits: Dict[str, int] = SCD_SPLITS,
                     size: int = 64, seed: int = 0) -> None:
    """Write ``out_dir/<split>/{im1,im2,label1,label2}/NNNN.png`` with
    labels in SECOND's RGB colours."""
    palette_bgr = np.asarray(SECOND_PALETTE, np.uint8)[:, ::-1]
    for s, (split, count) in enumerate(splits.items()):
        folders = [osp.join(out_dir, split, f)
                   for f in ('im1', 'im2', 'label1', 'label2')]
        for f in folders:
            os.makedirs(f, exist_ok=True)
        for i in range(count):
            img_a, img_b, l1, l2 = scd_sample(seed * 1000 + s, i, size)
            arrays = (img_a, img_b, palette_bgr[l1], palette_bgr[l2])
            for folder, arr in zip(folders, arrays):
                cv2.imwrite(osp.join(folder, f'{i:04d}.png'), arr)
