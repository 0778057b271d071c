"""Reading the PennFudanPed layout.

Shared by :class:`PennFudanDataset` (mmdet, instances),
:class:`PennFudanSemanticDataset` (mmseg, person/background) and
``tools/dataset_converters/pennfudan2coco.py``::

    PennFudanPed/
      PNGImages/FudanPed00001.png       RGB image
      PedMasks/FudanPed00001_mask.png   one id per pixel: 0 background,
                                        k > 0 the k-th pedestrian
      Annotation/FudanPed00001.txt      PASCAL-style boxes (optional)

Images and masks are paired by name, never by two sorted listings that can
drift apart when a file is missing.
"""
import io
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_util
from mmengine import fileio
from PIL import Image

# Single-channel PIL modes whose pixel values are the instance ids. The
# released masks are palette ('P') PNGs: the palette only colours the ids.
_ID_MODES = ('P', 'L', 'I', 'I;16', 'I;16B', 'I;16L')

_ANN_BOX = re.compile(
    r'Bounding box for object (\d+)[^:]*:\s*'
    r'\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)\s*-\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)')


def pair_images_and_masks(img_dir: str,
                          mask_dir: str,
                          img_suffix: str = '.png',
                          mask_suffix: str = '_mask.png',
                          backend_args: Optional[dict] = None) -> List[str]:
    """Pair ``<stem><img_suffix>`` with ``<stem><mask_suffix>`` by name.

    Args:
        img_dir (str): Folder of the images (``PNGImages``).
        mask_dir (str): Folder of the instance-id masks (``PedMasks``).
        img_suffix (str): Image file suffix. Defaults to '.png'.
        mask_suffix (str): Mask file suffix. Defaults to '_mask.png'.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        list[str]: The sorted stems that have both an image and a mask.

    Raises:
        ValueError: When some masks have no image or some images no mask;
            the message names every one of them.
    """
    images = {
        name[:-len(img_suffix)]
        for name in fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=img_suffix,
            backend_args=backend_args)
    }
    masks = {
        name[:-len(mask_suffix)]
        for name in fileio.list_dir_or_file(
            mask_dir, list_dir=False, suffix=mask_suffix,
            backend_args=backend_args)
    }
    problems = []
    if masks - images:
        names = [s + mask_suffix for s in sorted(masks - images)]
        problems.append(f'{len(names)} mask(s) in {mask_dir} without an '
                        f'image in {img_dir}: {", ".join(names)}')
    if images - masks:
        names = [s + img_suffix for s in sorted(images - masks)]
        problems.append(f'{len(names)} image(s) in {img_dir} without a '
                        f'mask in {mask_dir}: {", ".join(names)}')
    if problems:
        raise ValueError('PennFudan: unpaired files; ' + '; '.join(problems))
    if not images:
        raise ValueError(f'PennFudan: no "*{img_suffix}" images in {img_dir}')
    return sorted(images)


def split_names(names: Sequence[str],
                split: str = 'all',
                test_size: Union[int, float] = 50,
                seed: int = 0) -> List[str]:
    """Seeded random train/test split, as the tutorial's ``Subset`` split.

    The tutorial permutes the indices and keeps the last ``test_size`` of
    the permutation as test set. Here the permutation comes from numpy's
    ``default_rng(seed)`` over the *sorted* names, so it depends neither on
    the file system's listing order nor on torch's global RNG. Split files
    (see :func:`read_split_file`) pin a split independently of numpy.

    Args:
        names (Sequence[str]): Image stems.
        split (str): 'train', 'test' or 'all'. Defaults to 'all'.
        test_size (int | float): Number of test images, or their fraction
            of the dataset when a float in (0, 1). Defaults to 50.
        seed (int): Seed of the permutation. Defaults to 0.

    Returns:
        list[str]: The stems of ``split``, sorted.
    """
    assert split in ('all', 'train', 'test'), \
        f"split must be 'all', 'train' or 'test', got {split!r}"
    names = sorted(names)
    if split == 'all':
        return names
    num = len(names)
    if isinstance(test_size, float):
        assert 0.0 < test_size < 1.0, \
            f'a float test_size is a fraction in (0, 1), got {test_size}'
        num_test = int(round(test_size * num))
    else:
        num_test = int(test_size)
    assert 0 < num_test < num, (
        f'test_size={test_size} leaves no train or no test image among '
        f'{num} images')
    order = np.random.default_rng(seed).permutation(num)
    chosen = order[num - num_test:] if split == 'test' else \
        order[:num - num_test]
    return [names[i] for i in sorted(chosen.tolist())]


def read_split_file(path: str,
                    known: Sequence[str],
                    img_suffix: str = '.png',
                    backend_args: Optional[dict] = None) -> List[str]:
    """Read a split file: one image stem (or image file name) a line.

    Args:
        path (str): The split file.
        known (Sequence[str]): Stems present in the dataset.
        img_suffix (str): Stripped from names that end with it.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        list[str]: The stems, in file order, without duplicates.

    Raises:
        ValueError: When names are not in the dataset (all are named).
    """
    names = []
    for line in fileio.list_from_file(path, backend_args=backend_args):
        name = line.strip()
        if not name or name.startswith('#'):
            continue
        if name.endswith(img_suffix):
            name = name[:-len(img_suffix)]
        if name not in names:
            names.append(name)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f'PennFudan: split file {path} names {len(unknown)} '
                         f'image(s) not in the dataset: {", ".join(unknown)}')
    return names


def select_split(img_dir: str,
                 mask_dir: str,
                 img_suffix: str,
                 mask_suffix: str,
                 ann_file: str,
                 split: str,
                 test_size: Union[int, float],
                 split_seed: int,
                 backend_args: Optional[dict] = None
                 ) -> Tuple[List[str], List[str]]:
    """Pair images with masks and pick one split's names, from ``ann_file``
    when given, else by :func:`split_names`.

    Returns:
        tuple[list[str], list[str]]: every paired stem (sorted) and the
        split's stems.
    """
    stems = pair_images_and_masks(img_dir, mask_dir, img_suffix, mask_suffix,
                                  backend_args)
    if ann_file:
        names = read_split_file(ann_file, stems, img_suffix, backend_args)
    else:
        names = split_names(stems, split, test_size, split_seed)
    return stems, names


def read_id_mask(path: str,
                 backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an instance-id mask without mapping ids through its palette.

    Args:
        path (str): A ``*_mask.png``.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        np.ndarray: Ids of shape (H, W); 0 is background.
    """
    with Image.open(io.BytesIO(fileio.get(path, backend_args))) as img:
        if img.mode not in _ID_MODES:
            raise ValueError(
                f'PennFudan: {path} is a {img.mode} image; expected a '
                f'single-channel mask of instance ids (0 background)')
        return np.array(img)


def read_image_size(path: str,
                    backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """(height, width) of an image, from its header."""
    with Image.open(io.BytesIO(fileio.get(path, backend_args))) as img:
        return img.height, img.width


def split_instances(id_mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """One binary mask per non-zero id, as the tutorial's loader does.

    Args:
        id_mask (np.ndarray): Ids of shape (H, W).

    Returns:
        tuple[np.ndarray, np.ndarray]: The sorted ids, shape (N, ), and
        their masks, bool of shape (N, H, W).
    """
    ids = np.unique(id_mask)
    ids = ids[ids != 0]
    return ids, id_mask[None] == ids[:, None, None]


def mask_to_bbox(mask: np.ndarray) -> List[float]:
    """Box of a non-empty binary mask in mmdet's convention.

    ``[x_min, y_min, x_max + 1, y_max + 1]`` so that the last row and column
    lie inside the box, as ``BitmapMasks.get_bboxes`` gives; the tutorial's
    loader gives ``[x_min, y_min, x_max, y_max]``.

    Args:
        mask (np.ndarray): Binary mask of shape (H, W).

    Returns:
        list[float]: x1, y1, x2, y2.
    """
    ys, xs = np.where(mask)
    assert xs.size > 0, 'mask_to_bbox needs a non-empty mask'
    return [float(xs.min()), float(ys.min()),
            float(xs.max() + 1), float(ys.max() + 1)]


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO compressed RLE with str counts (JSON-safe, and what mmdet's
    ``LoadAnnotations(with_mask=True)`` decodes).

    Args:
        mask (np.ndarray): Binary mask of shape (H, W).

    Returns:
        dict: ``{'size': [H, W], 'counts': str}``.
    """
    rle = mask_util.encode(np.asfortranarray(mask, dtype=np.uint8))
    return dict(size=[int(s) for s in rle['size']],
                counts=rle['counts'].decode('ascii'))


def read_annotation_boxes(
        path: str,
        backend_args: Optional[dict] = None
) -> Dict[int, Tuple[float, float, float, float]]:
    """Boxes of an ``Annotation/*.txt`` file, in mmdet's convention.

    The files give 1-based inclusive PASCAL corners ``(Xmin, Ymin) - (Xmax,
    Ymax)``; ``(Xmin - 1, Ymin - 1, Xmax, Ymax)`` is the 0-based box whose
    right and bottom edges lie after the last pixel, comparable with
    :func:`mask_to_bbox`.

    Returns:
        dict[int, tuple]: Object number (its id in the mask) to x1, y1, x2,
        y2.
    """
    text = fileio.get_text(path, backend_args=backend_args)
    boxes = {}
    for match in _ANN_BOX.finditer(text):
        obj, x1, y1, x2, y2 = (int(v) for v in match.groups())
        boxes[obj] = (x1 - 1.0, y1 - 1.0, float(x2), float(y2))
    return boxes
