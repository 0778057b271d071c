"""A tiny synthetic dataset in Pascal VOC 2012's on-disk format.

``VOCdevkit/VOC2012/JPEGImages/<name>.jpg``,
``SegmentationClass/<name>.png`` (mode P palette PNGs with VOC's colour map,
255 = border, as VOC ships them), optionally ``SegmentationClassRGB/`` (the
same labels as RGB colour PNGs, the form both tutorials read) and
``ImageSets/Segmentation/<split>.txt``. Used by tests and to try the VOC
configs without the real data.
"""
import os.path as osp
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image

from .synthetic import random_shape, textured_background

# Classes painted: person (disc) and car (box), with VOC's 255 border.
VOC_SHAPE_CLASSES = (15, 7)


def voc_colormap(n: int = 256) -> np.ndarray:
    """VOC's palette (the devkit's ``labelcolormap``): (n, 3) uint8, index
    0 black, 1 (128, 0, 0) ..., 255 (224, 224, 192)."""
    cmap = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def voc_sample(seed: int, index: int,
               size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """One RGB image (h, w, 3) and its VOC label (h, w): classes 0, 15, 7
    and 255 on a one-pixel border around each object."""
    h, w = size
    side = max(h, w)
    rng = np.random.default_rng([seed, index])
    img = textured_background(rng, side)
    label = np.zeros((side, side), np.uint8)
    colors = ((230, 200, 40), (30, 60, 220))
    for _ in range(rng.integers(1, 4)):
        obj, kind = random_shape(rng, side)  # kind 1: disc, 2: box
        kind -= 1
        img[obj] = colors[kind]
        grown = obj.copy()  # 4-neighbour dilation: VOC's border band
        grown[1:] |= obj[:-1]
        grown[:-1] |= obj[1:]
        grown[:, 1:] |= obj[:, :-1]
        grown[:, :-1] |= obj[:, 1:]
        label[grown & ~obj] = 255
        label[obj] = VOC_SHAPE_CLASSES[kind]
    return img[:h, :w], label[:h, :w]


def make_voc_dataset(out_dir: str,
                     splits: Dict[str, int] = None,
                     sizes: Sequence[Tuple[int, int]] = ((48, 64), ),
                     seed: int = 0,
                     rgb_labels: bool = True) -> str:
    """Write the dataset under ``out_dir/VOCdevkit/VOC2012``.

    Args:
        out_dir (str): Output root.
        splits (dict[str, int]): Samples per split. Default: 8 train, 4 val.
        sizes (Sequence[tuple[int, int]]): (h, w) of the samples, cycled.
        seed (int): Everything depends only on it and the sample index.
        rgb_labels (bool): Also write ``SegmentationClassRGB``.

    Returns:
        str: the ``VOC2012`` directory (a config's ``data_root``).
    """
    splits = splits or {'train': 8, 'val': 4}
    root = Path(out_dir, 'VOCdevkit', 'VOC2012')
    dirs = ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']
    if rgb_labels:
        dirs.append('SegmentationClassRGB')
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    cmap = voc_colormap()
    index = 0
    for s_idx, (split, num) in enumerate(splits.items()):
        names = []
        for i in range(num):
            name = f'2007_{index:06d}'
            img, label = voc_sample(seed * 1000 + s_idx, i,
                                    sizes[index % len(sizes)])
            Image.fromarray(img).save(
                osp.join(root, 'JPEGImages', name + '.jpg'), quality=95)
            png = Image.fromarray(label)
            png.putpalette(cmap.flatten().tolist())  # L -> P
            png.save(osp.join(root, 'SegmentationClass', name + '.png'))
            if rgb_labels:
                png.convert('RGB').save(
                    osp.join(root, 'SegmentationClassRGB', name + '.png'))
            names.append(name)
            index += 1
        (root / 'ImageSets/Segmentation' / f'{split}.txt').write_text(
            '\n'.join(names) + '\n')
    return str(root)
