import os.path as osp
from typing import Sequence

from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ...utils.image_io import read_image


@HOOKS.register_module()
class IndexedSegVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` that also works in test-only runs.

    mmseg 1.2.2's hook passes ``runner.iter`` as the step while testing; that
    property builds the *training* loop and dataloader, so
    ``tools/test.py --show-dir`` fails wherever the training split is absent.
    Here test images are numbered by their index in the test set instead;
    as upstream, every ``interval``-th batch is drawn. Arguments are those
    of ``SegVisualizationHook``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._test_index = 0

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if not self.draw:
            return
        draw = self.every_n_inner_iters(batch_idx, self.interval)
        for output in outputs:
            if draw:
                self._draw(output, 'test', self._test_index)
            self._test_index += 1

    def _after_iter(self, runner, batch_idx, data_batch, outputs,
                    mode='val') -> None:
        if self.draw is False or mode == 'train':
            return
        if self.every_n_inner_iters(batch_idx, self.interval):
            for output in outputs:
                self._draw(output, mode, runner.iter)

    def _draw(self, output: SegDataSample, mode: str, step: int) -> None:
        """Paint one sample with the runner's visualizer."""
        img = read_image(output.img_path, 'color', self.backend_args,
                         channel_order='rgb')
        self._visualizer.add_datasample(
            f'{mode}_{osp.basename(output.img_path)}',
            img,
            data_sample=output,
            show=self.show,
            wait_time=self.wait_time,
            step=step)
