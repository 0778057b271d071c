from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.models.utils import resize
from mmseg.registry import HOOKS


def colorize(label: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Colour a class map: (H, W) int -> (H, W, 3) uint8 RGB; indices without
    a colour (255, ignored) are white."""
    table = np.full((256, 3), 255, np.uint8)
    table[:len(palette)] = palette
    return table[label.astype(np.int64).clip(0, 255)]


@HOOKS.register_module()
class SegTrainVisHook(Hook):
    """Save image | label | prediction strips of training batches.

    The U-Net tutorial "图像分割" saves ``[image, label, output]`` of a
    training batch every 100 iterations. mmseg's ``SegVisualizationHook``
    draws validation and test samples only, so this hook does it for
    training: every ``interval`` iterations it predicts the current batch
    (model in eval mode, no gradients, so BN statistics are not touched),
    and hands one picture, a row per sample, to the runner's visualizer. Its
    ``LocalVisBackend`` writes
    ``<work_dir>/<timestamp>/vis_data/vis_image/train_strips_<iter>.png``;
    add ``TensorboardVisBackend`` to ``visualizer.vis_backends`` to get them
    in TensorBoard too.

    Args:
        interval (int): Iterations between pictures. Default: 100.
        max_samples (int): Rows (samples of the batch) per picture.
            Default: 4.
        name (str): Image name given to the visualizer.
            Default: 'train_strips'.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 100,
                 max_samples: int = 4,
                 name: str = 'train_strips'):
        assert interval > 0, f'interval must be positive, got {interval}'
        assert max_samples > 0, (
            f'max_samples must be positive, got {max_samples}')
        self.interval = interval
        self.max_samples = max_samples
        self.name = name

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if data_batch is None or not self.every_n_train_iters(
                runner, self.interval):
            return
        strips = self.draw(runner, data_batch)
        runner.visualizer.add_image(self.name, strips, step=runner.iter + 1)

    @torch.no_grad()
    def draw(self, runner: Runner, data_batch: dict) -> np.ndarray:
        """The picture for ``data_batch``: (k * H, 3 * W, 3) uint8 RGB."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        k = self.max_samples
        batch = dict(inputs=data_batch['inputs'][:k],
                     data_samples=data_batch['data_samples'][:k])
        was_training = model.training
        model.eval()
        try:
            # Training-mode preprocessing pads images and labels together
            # (test mode refuses mixed sizes and pads images only).
            data = model.data_preprocessor(batch, True)
            logits = model(**data, mode='tensor')
        finally:
            model.train(was_training)
        inputs = data['inputs']
        logits = resize(logits, size=inputs.shape[2:], mode='bilinear',
                        align_corners=model.decode_head.align_corners)
        preds = logits.argmax(dim=1).cpu().numpy()
        palette = np.asarray(
            runner.train_dataloader.dataset.metainfo['palette'], np.uint8)
        rows = []
        for raw, sample, pred in zip(batch['inputs'], data['data_samples'],
                                     preds):
            h, w = pred.shape
            img = np.zeros((h, w, 3), np.uint8)
            raw = raw.cpu().numpy().transpose(1, 2, 0)[..., ::-1]  # BGR->RGB
            img[:raw.shape[0], :raw.shape[1]] = raw[:h, :w]
            gt = sample.gt_sem_seg.data[0].cpu().numpy()[:h, :w]
            rows.append(np.concatenate(
                [img, colorize(gt, palette), colorize(pred, palette)], 1))
        return np.concatenate(rows, 0)
