"""The from-class and to-class maps of a semantic change model over a scene.

A semantic change model (``SCDEncoderDecoder``, or its exported graph)
gives, besides the change map, each date's class where change is
predicted (``scd_maps``: 0 no change, else 1 + the class). A scene run
writes them as two COGs on date A's grid beside the change map, tile core
by tile core as it writes that, with the dataset's palette as their
colour table and the class names in a ``CLASS_NAMES`` tag, and counts the
pixels and ground area of each from-to pair as it goes: the area table
needs no second pass over the scene.
"""
import csv
import io
import os.path as osp
from typing import NamedTuple, Optional, Tuple

import numpy as np
from mmseg.registry import DATASETS
from torch import nn

from ..utils.atomic_io import atomic_write


class ClassTable(NamedTuple):
    """The classes of a semantic change model's maps: ``names``, K names
    with index 0 no change, and ``palette``, their K (r, g, b) colours."""
    names: Tuple[str, ...]
    palette: Tuple[Tuple[int, int, int], ...]


def _config_metainfo(model: nn.Module) -> dict:
    """Classes and palette of the config's test dataset: its ``metainfo``
    over its class's ``METAINFO``; {} when it names none."""
    try:
        dataset = model.cfg.test_dataloader.dataset
        info = dict(getattr(DATASETS.get(dataset.type), 'METAINFO', {}))
    except (AttributeError, KeyError, TypeError):
        return {}
    info.update(dataset.get('metainfo') or {})
    return info


def scd_class_table(model: nn.Module) -> Optional[ClassTable]:
    """The class names and colours of a semantic change model: those of
    its ``dataset_meta`` (from the checkpoint), else its config's test
    dataset, else numbered names and fixed colours; None for a model
    without semantic maps (no ``num_scd_classes``)."""
    k = getattr(model, 'num_scd_classes', None)
    if k is None:
        return None
    k = int(k)
    meta, info = getattr(model, 'dataset_meta', None) or {}, None
    names, palette = meta.get('classes'), meta.get('palette')
    if not names or len(names) != k or not palette or len(palette) < k:
        info = _config_metainfo(model)
    if not names or len(names) != k:
        names = info.get('classes')
        if not names or len(names) != k:
            names = ('unchanged', ) + tuple(f'class {i}' for i in range(1, k))
    if not palette or len(palette) < k:
        palette = (info or {}).get('palette')
        if not palette or len(palette) < k:
            rng = np.random.default_rng(0)
            palette = [(255, 255, 255)] + rng.integers(
                0, 256, (k - 1, 3)).tolist()
    return ClassTable(tuple(str(n) for n in names),
                      tuple(tuple(int(v) for v in c[:3])
                            for c in palette[:k]))


def class_paths(out: str) -> Tuple[str, str, str]:
    """The from-class COG, to-class COG and area table of the change map
    ``out``: ``<stem>_from<ext>``, ``<stem>_to<ext>``,
    ``<stem>_areas.csv``."""
    stem, ext = osp.splitext(str(out))
    return f'{stem}_from{ext}', f'{stem}_to{ext}', f'{stem}_areas.csv'


def polygon_classes(model: nn.Module, out: str) -> Optional[Tuple[str, str]]:
    """What ``write_polygons`` takes as ``classes`` for the change map
    ``out`` of ``model``: its from-class and to-class COGs for a semantic
    change model, else None."""
    if scd_class_table(model) is None:
        return None
    return class_paths(out)[:2]


def zero_tables(k: int) -> dict:
    """The from-to counts of no pixel: (K, K) pixels and m^2."""
    return dict(from_to_pixels=np.zeros((k, k), np.int64),
                from_to_m2=np.zeros((k, k), np.float64))


def tile_tables(frm: np.ndarray, to: np.ndarray, valid: np.ndarray,
                k: int, pixel_m2: Optional[float]) -> dict:
    """The from-to counts of a tile's core.

    Args:
        frm, to (np.ndarray): (h, w) uint8 classes, 0 no change.
        valid (np.ndarray): (h, w) bool.
        k (int): K, no change included.
        pixel_m2 (float, optional): Ground area of a pixel; None: 0 m^2.

    Returns:
        dict: ``from_to_pixels`` (K, K) int64 pixels changed from row to
        column, ``from_to_m2`` their ground area.
    """
    changed = (frm != 0) & valid
    pixels = np.bincount(
        frm[changed].astype(np.int64) * k + to[changed],
        minlength=k * k).reshape(k, k)
    return dict(from_to_pixels=pixels,
                from_to_m2=pixels * float(pixel_m2 or 0.0))


def write_area_table(path: str, table: ClassTable, counts: dict,
                     georeferenced: bool) -> str:
    """Write the from-to pairs counted (``counts``' tables) as CSV:
    ``from_class, to_class, pixels, area_m2`` per pair changed, the area
    empty where the grid cannot be placed on Earth; atomically.

    Returns:
        str: ``path``.
    """
    pixels, m2 = counts['from_to_pixels'], counts['from_to_m2']
    text = io.StringIO()
    rows = csv.writer(text, lineterminator='\n')
    rows.writerow(('from_class', 'to_class', 'pixels', 'area_m2'))
    for i, j in zip(*np.nonzero(pixels)):
        rows.writerow((table.names[i], table.names[j], int(pixels[i, j]),
                       f'{m2[i, j]:.3f}' if georeferenced else ''))
    atomic_write(str(path), text.getvalue().encode())
    return str(path)
