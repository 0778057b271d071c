"""Small deterministic synthetic datasets written in real on-disk layouts.

They let a fresh clone train and evaluate without downloads, and give the
tests realistic fixtures. Every sample depends only on ``seed`` and its index.
"""
import os.path as osp
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from .synthetic_hard import hard_change_sample

SHAPES_CLASSES = ('background', 'disc', 'box')
CHANGE_SPLITS = {'train': 160, 'val': 24, 'test': 24}
CHANGE_PRESETS = ('demo', 'hard')
SHAPES_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255]]


def textured_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random texture, uint8 (size, size, 3)."""
    coarse = rng.uniform(40, 200, (size // 8 + 1, size // 8 + 1, 3))
    img = np.kron(coarse, np.ones((8, 8, 1)))[:size, :size]
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def random_shape(rng: np.random.Generator, size: int) -> Tuple[np.ndarray,
                                                                 int]:
    """A random disc (kind 1) or axis-aligned box (kind 2).

    Returns:
        tuple: bool mask (size, size) and the kind.
    """
    if rng.random() < 0.5:
        r = rng.integers(size // 12, size // 5)
        cy, cx = rng.integers(r, size - r, 2)
        yy, xx = np.ogrid[:size, :size]
        return (yy - cy)**2 + (xx - cx)**2 <= r * r, 1
    h, w = rng.integers(size // 8, size // 3, 2)
    y, x = rng.integers(0, size - h), rng.integers(0, size - w)
    mask = np.zeros((size, size), bool)
    mask[y:y + h, x:x + w] = True
    return mask, 2


def shapes_sample(seed: int, index: int,
                  size: int) -> Tuple[np.ndarray, np.ndarray]:
    """One image (size, size, 3) uint8 RGB and its class map (size, size)."""
    rng = np.random.default_rng([seed, index])
    img = textured_background(rng, size)
    label = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(1, 4)):
        mask, kind = random_shape(rng, size)
        img[mask] = SHAPES_PALETTE[kind]
        label[mask] = kind
    return img, label


def change_sample(seed: int, index: int,
                  size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bi-temporal pair and its change label.

    Both dates share a textured background and some unchanged objects;
    changed objects appear in B or disappear from A; B has another
    illumination (per-channel gain and offset) and its own sensor noise, so
    'changed' cannot be told from a plain pixel difference.

    Returns:
        tuple: A and B (size, size, 3) uint8 RGB, label (size, size) 0/255.
    """
    rng = np.random.default_rng([seed, index])
    img_a = textured_background(rng, size)
    img_b = img_a.copy()
    label = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(1, 4)):  # unchanged objects
        mask, _ = random_shape(rng, size)
        img_a[mask] = img_b[mask] = rng.integers(0, 256, 3)
    for _ in range(rng.integers(0, 4)):  # changes
        mask, _ = random_shape(rng, size)
        target = img_b if rng.random() < 0.5 else img_a
        target[mask] = rng.integers(0, 256, 3)
        label[mask] = 255
    gain = rng.uniform(0.7, 1.3, 3)
    offset = rng.uniform(-30, 30, 3)
    img_b = img_b * gain + offset + rng.normal(0, 6, img_b.shape)
    return img_a, np.clip(img_b, 0, 255).astype(np.uint8), label


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


def make_change_dataset(out_dir: str,
                        splits: Dict[str, int] = None,
                        size: int = 64,
                        seed: int = 0,
                        preset: str = 'demo') -> str:
    """Write ``<split>/A``, ``<split>/B``, ``<split>/label`` PNGs (0/255
    labels): the LEVIR-CD layout.

    Args:
        preset (str): 'demo' (:func:`change_sample`) or 'hard'
            (:func:`seg_plugins.utils.synthetic_hard.hard_change_sample`:
            small objects, ~5 % changed, seasonal and illumination changes
            that are not change, 1-2 px misregistration).

    Returns:
        str: ``out_dir``.
    """
    if preset not in CHANGE_PRESETS:
        raise ValueError(f'preset must be one of {CHANGE_PRESETS}, got '
                         f'{preset!r}')
    sample = hard_change_sample if preset == 'hard' else change_sample
    splits = splits or CHANGE_SPLITS
    for s_idx, (split, num) in enumerate(splits.items()):
        dirs = [Path(out_dir, split, d) for d in ('A', 'B', 'label')]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        for i in range(num):
            arrays = sample(seed * 1000 + s_idx, i, size)
            for d, array in zip(dirs, arrays):
                Image.fromarray(array).save(d / f'{split}_{i:04d}.png')
    return out_dir
