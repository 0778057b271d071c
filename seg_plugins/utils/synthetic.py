"""Small deterministic synthetic datasets written in real on-disk layouts.

They let a fresh clone train and evaluate without downloads, and give the
tests realistic fixtures. Every sample depends only on ``seed`` and its index.
"""
import os.path as osp
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image

SHAPES_CLASSES = ('background', 'disc', 'box')
SHAPES_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255]]


def textured_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random texture, uint8 (size, size, 3)."""
    coarse = rng.uniform(40, 200, (size // 8 + 1, size // 8 + 1, 3))
    img = np.kron(coarse, np.ones((8, 8, 1)))[:size, :size]
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def draw_disc(img: np.ndarray, mask: np.ndarray, value: int,
              rng: np.random.Generator, color) -> None:
    """Paint a random disc into ``img`` with ``color`` and ``mask`` with
    ``value``, in place."""
    size = img.shape[0]
    r = rng.integers(size // 12, size // 5)
    cy, cx = rng.integers(r, size - r, 2)
    yy, xx = np.ogrid[:size, :size]
    inside = (yy - cy)**2 + (xx - cx)**2 <= r * r
    img[inside] = color
    mask[inside] = value


def draw_box(img: np.ndarray, mask: np.ndarray, value: int,
             rng: np.random.Generator, color) -> None:
    """Paint a random axis-aligned box, in place."""
    size = img.shape[0]
    h, w = rng.integers(size // 8, size // 3, 2)
    y, x = rng.integers(0, size - h), rng.integers(0, size - w)
    img[y:y + h, x:x + w] = color
    mask[y:y + h, x:x + w] = value


def shapes_sample(seed: int, index: int,
                  size: int) -> Tuple[np.ndarray, np.ndarray]:
    """One image (size, size, 3) uint8 RGB and its class map (size, size)."""
    rng = np.random.default_rng([seed, index])
    img = textured_background(rng, size)
    label = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(1, 4)):
        draw = draw_disc if rng.random() < 0.5 else draw_box
        value = 1 if draw is draw_disc else 2
        draw(img, label, value, rng, SHAPES_PALETTE[value])
    return img, label


def make_shapes_dataset(out_dir: str,
                        splits: Dict[str, int] = None,
                        size: int = 64,
                        seed: int = 0) -> str:
    """Write ``img_dir/<split>/*.png`` and ``ann_dir/<split>/*.png`` (class
    index PNGs), the layout of mmseg's ``BaseSegDataset``.

    Returns:
        str: ``out_dir``.
    """
    splits = splits or {'train': 32, 'val': 8}
    for s_idx, (split, num) in enumerate(splits.items()):
        img_dir = Path(out_dir, 'img_dir', split)
        ann_dir = Path(out_dir, 'ann_dir', split)
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        for i in range(num):
            img, label = shapes_sample(seed * 1000 + s_idx, i, size)
            name = f'{split}_{i:04d}.png'
            Image.fromarray(img).save(osp.join(img_dir, name))
            Image.fromarray(label).save(osp.join(ann_dir, name))
    return out_dir
