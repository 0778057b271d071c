"""Scores of a change raster against a reference label raster, streamed
block by block."""
from typing import Dict

import numpy as np
from rasterio.windows import Window

from .grid import check_same_grid, open_raster

BLOCK = 2048


def score_change(change_path: str, label_path: str,
                 block: int = BLOCK) -> Dict[str, float]:
    """Precision, recall, F1 and IoU of the changed class.

    Pixels count where the change map is not nodata (255) and the label
    is valid (its nodata value or mask); a label pixel > 0 is changed (0/1
    and 0/255 labels alike).

    Args:
        change_path (str): Change raster from :func:`infer_change_scene`.
        label_path (str): Reference label on the same grid.
        block (int): Block side read at a time.

    Returns:
        dict: ``tp``, ``fp``, ``fn``, ``tn`` (pixel counts) and
        ``precision``, ``recall``, ``f1``, ``iou`` (in %).

    Raises:
        GridMismatchError: the label is not on the change map's grid.
    """
    counts = dict(tp=0, fp=0, fn=0, tn=0)
    with open_raster(change_path) as change, open_raster(
            label_path) as label:
        check_same_grid(change, label, change_path, label_path,
                        hint="The label must be on date A's grid.")
        for r0 in range(0, change.height, block):
            for c0 in range(0, change.width, block):
                window = Window(c0, r0, min(block, change.width - c0),
                                min(block, change.height - r0))
                pred = change.read(1, window=window)
                valid = (pred != 255) & (
                    label.read_masks(1, window=window) > 0)
                truth = label.read(1, window=window) > 0
                pred = pred == 1
                for key, p, t in (('tp', True, True), ('fp', True, False),
                                  ('fn', False, True), ('tn', False, False)):
                    counts[key] += int(np.count_nonzero(
                        valid & (pred == p) & (truth == t)))
    tp, fp, fn = counts['tp'], counts['fp'], counts['fn']

    def pct(num, den):
        return 100.0 * num / den if den else 0.0

    return dict(counts, precision=pct(tp, tp + fp), recall=pct(tp, tp + fn),
                f1=pct(2 * tp, 2 * tp + fp + fn), iou=pct(tp, tp + fp + fn))
