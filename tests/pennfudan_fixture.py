"""A tiny dataset in PennFudanPed's on-disk layout.

``PNGImages/<stem>.png`` RGB, ``PedMasks/<stem>_mask.png`` palette PNG of
instance ids (0 background), ``Annotation/<stem>.txt`` in the release's text
format with boxes taken from the masks (1-based inclusive corners).
"""
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

# Per image: (height, width, instance ids). One image has no pedestrian,
# one skips an id (ids need not be contiguous).
DEFAULT_SPECS = (
    (96, 128, (1, )),
    (96, 128, (1, 2)),
    (112, 96, (1, 2, 3)),
    (96, 128, ()),
    (128, 112, (1, 3)),
    (96, 128, (1, 2)),
    (104, 120, (1, )),
    (96, 128, (1, 2, 3)),
)


def stem_of(index: int) -> str:
    """Names as the release's: FudanPed00001, PennPed00002, ..."""
    prefix = 'FudanPed' if index % 2 == 0 else 'PennPed'
    return f'{prefix}{index + 1:05d}'


def draw_id_mask(height: int, width: int, ids: Sequence[int],
                 rng: np.random.Generator) -> np.ndarray:
    """Upright ellipses ("pedestrians"), one per id, later ids on top.

    Returns:
        np.ndarray: uint8 ids of shape (H, W).
    """
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.mgrid[:height, :width]
    for obj_id in ids:
        ry = rng.integers(height // 6, height // 3)
        rx = rng.integers(max(3, ry // 3), max(4, ry // 2 + 1))
        cy = rng.integers(ry, height - ry)
        cx = rng.integers(rx, width - rx)
        inside = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1.0
        mask[inside] = obj_id
    return mask


def annotation_text(stem: str, mask: np.ndarray) -> str:
    """The release's ``Annotation/*.txt`` format for ``mask``."""
    height, width = mask.shape
    ids = [i for i in np.unique(mask).tolist() if i != 0]
    walking = '"PASpersonWalking"'
    lines = [
        '# Compatible with PASCAL Annotation Version 1.00',
        f'Image filename : "PennFudanPed/PNGImages/{stem}.png"',
        f'Image size (X x Y x C) : {width} x {height} x 3',
        'Database : "The Penn-Fudan-Pedestrian Database"',
        f'Objects with ground truth : {len(ids)} '
        f'{{ {" ".join(walking for _ in ids)} }}'
    ]
    for obj_id in ids:
        ys, xs = np.where(mask == obj_id)
        lines += [
            f'# Details for pedestrian {obj_id} ("PASpersonWalking")',
            f'Original label for object {obj_id} "PASpersonWalking" : '
            '"PennFudanPed"',
            f'Bounding box for object {obj_id} "PASpersonWalking" (Xmin, '
            f'Ymin) - (Xmax, Ymax) : ({xs.min() + 1}, {ys.min() + 1}) - '
            f'({xs.max() + 1}, {ys.max() + 1})',
            f'Pixel mask for object {obj_id} "PASpersonWalking" : '
            f'"PennFudanPed/PedMasks/{stem}_mask.png"', ''
        ]
    return '\n'.join(lines) + '\n'


def write_pennfudan(root, specs=DEFAULT_SPECS, seed: int = 0,
                    annotations: bool = True) -> Path:
    """Write the images, masks (and annotation texts) under ``root``.

    Returns:
        Path: ``root``.
    """
    root = Path(root)
    for sub in ('PNGImages', 'PedMasks', 'Annotation'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    palette[0] = 0
    for index, (height, width, ids) in enumerate(specs):
        stem = stem_of(index)
        mask = draw_id_mask(height, width, ids, rng)
        img = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
        img[mask > 0] = (200, 150, 60)  # pedestrians stand out
        Image.fromarray(img).save(root / 'PNGImages' / f'{stem}.png')
        mask_img = Image.fromarray(mask)
        mask_img.putpalette(palette.flatten().tolist())  # 'L' -> 'P'
        mask_img.save(root / 'PedMasks' / f'{stem}_mask.png')
        if annotations:
            (root / 'Annotation' / f'{stem}.txt').write_text(
                annotation_text(stem, mask))
    return root
