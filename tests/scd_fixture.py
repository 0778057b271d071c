"""A tiny SECOND-layout set: coded images and RGB colour labels."""
import os

import cv2
import numpy as np

from seg_plugins.datasets.second_scd import SECOND_PALETTE


def coded_scd_pair(h, w, seed=0, num_classes=7):
    """Images whose pixels name their source: BGR (0, col, row) for date 1,
    (1, col, row) for date 2; from/to index maps (0 = no change) with
    change in the same places."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:h, :w]
    img1 = np.stack([np.zeros_like(rows), cols, rows], -1).astype(np.uint8)
    img2 = img1.copy()
    img2[..., 0] = 1
    changed = rng.random((h, w)) < 0.5
    label1 = np.where(changed, rng.integers(1, num_classes, (h, w)), 0)
    label2 = np.where(changed, rng.integers(1, num_classes, (h, w)), 0)
    return img1, img2, label1.astype(np.uint8), label2.astype(np.uint8)


def to_rgb(label, palette=SECOND_PALETTE):
    return np.asarray(palette, np.uint8)[label]


def write_scd_pair(root, split, name, img1, img2, label1, label2,
                   rgb_labels=True):
    """Write one pair under ``root/split/{im1,im2,label1,label2}``."""
    for folder, arr in (('im1', img1), ('im2', img2), ('label1', label1),
                        ('label2', label2)):
        os.makedirs(os.path.join(root, split, folder), exist_ok=True)
        if folder.startswith('label') and rgb_labels:
            arr = to_rgb(arr)[..., ::-1]  # cv2 writes BGR
        cv2.imwrite(os.path.join(root, split, folder, f'{name}.png'), arr)
