"""Tiny change-detection fixtures in the real LEVIR-CD folder layout."""
from pathlib import Path

import numpy as np
from PIL import Image


def write_pair(root: Path, split: str, name: str, img_a: np.ndarray,
               img_b: np.ndarray, label: np.ndarray,
               folders=('A', 'B', 'label'), suffix='.png') -> None:
    """Write A, B and label of one sample under ``root/split``."""
    for folder, array in zip(folders, (img_a, img_b, label)):
        path = root / split / folder
        path.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(path / f'{name}{suffix}')


def coded_pair(h: int, w: int, seed: int = 0):
    """A pair whose pixels encode their position, and a random 0/255 label.

    Image A holds (row, col, 0), image B (row, col, 1) in its three
    channels, so any geometric transform can be traced back pixel by pixel.
    """
    rows, cols = np.mgrid[:h, :w]
    img_a = np.stack([rows, cols, np.zeros_like(rows)], -1).astype(np.uint8)
    img_b = np.stack([rows, cols, np.ones_like(rows)], -1).astype(np.uint8)
    rng = np.random.default_rng(seed)
    label = (rng.random((h, w)) < 0.3).astype(np.uint8) * 255
    return img_a, img_b, label
