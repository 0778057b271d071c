from typing import Optional

import mmcv
import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..utils.image_io import read_image

# Colours (RGB) of the prediction panel.
TP_COLOR = (255, 255, 255)  # changed, found
FP_COLOR = (230, 30, 30)  # false alarm
FN_COLOR = (30, 120, 255)  # missed change


def change_panel(pred: np.ndarray, gt: Optional[np.ndarray]) -> np.ndarray:
    """Colour a {0,1} prediction against the ground truth.

    Args:
        pred (np.ndarray): shape (H, W), 1 = changed.
        gt (np.ndarray, optional): shape (H, W), {0, 1, 255}; None paints
            the prediction white on black.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB; TP white, FP red, FN blue, TN and
        ignored pixels black.
    """
    panel = np.zeros((*pred.shape, 3), np.uint8)
    pred = pred == 1
    if gt is None:
        panel[pred] = TP_COLOR
        return panel
    valid = gt != 255
    gt = gt == 1
    panel[pred & gt & valid] = TP_COLOR
    panel[pred & ~gt & valid] = FP_COLOR
    panel[~pred & gt & valid] = FN_COLOR
    return panel


@VISUALIZERS.register_module()
class ChangeLocalVisualizer(SegLocalVisualizer):
    """Draws change-detection samples as A | B | ground truth | prediction.

    The prediction panel shows true positives, false positives and false
    negatives in distinct colours (see :func:`change_panel`). Image B is
    read from ``img_path2`` in the sample's metainfo (add it to
    ``PackSegInputs``' ``meta_keys``). Arguments are those of
    ``SegLocalVisualizer``.
    """

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Args:
            name (str): Image name.
            image (np.ndarray): Image A, (H, W, 3) RGB.
            data_sample (SegDataSample): With ``img_path2`` and
                ``pred_sem_seg`` / ``gt_sem_seg`` (1, H, W).
            Others: as ``SegLocalVisualizer.add_datasample``.
        """
        panels = [image]
        img2_path = data_sample.metainfo.get('img_path2')
        if img2_path:
            panels.append(read_image(img2_path, 'color', channel_order='rgb'))
        gt = None
        if draw_gt and 'gt_sem_seg' in data_sample:
            gt = data_sample.gt_sem_seg.data[0].cpu().numpy()
            panels.append(change_panel((gt == 1).astype(np.uint8), None))
        if draw_pred and 'pred_sem_seg' in data_sample:
            pred = data_sample.pred_sem_seg.data[0].cpu().numpy()
            panels.append(change_panel(pred.astype(np.uint8), gt))
        height = image.shape[0]
        panels = [
            p if p.shape[0] == height else mmcv.imrescale(
                p, (p.shape[1] * height // p.shape[0], height))
            for p in panels
        ]
        drawn = np.concatenate(panels, axis=1)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
