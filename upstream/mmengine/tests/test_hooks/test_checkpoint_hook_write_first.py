# Copyright (c) OpenMMLab. All rights reserved.
import os
import os.path as osp

import pytest

from mmengine.testing import RunnerTestCase


class TestCheckpointHookWritesFirst(RunnerTestCase):
    """A checkpoint that cannot be written must not cost the one it was to
    replace: the hook deletes an outdated checkpoint only after its
    successor is saved."""

    def _block(self, name):
        # A folder under the checkpoint's name makes its save fail, as a
        # full disk or a kill mid-write would.
        os.makedirs(osp.join(self.temp_dir.name, name))

    def test_interval_checkpoint(self):
        cfg = self.iter_based_cfg
        cfg.train_cfg.max_iters = 3
        cfg.train_cfg.val_interval = 100
        cfg.default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', interval=1, by_epoch=False,
            max_keep_ckpts=1))
        runner = self.build_runner(cfg)
        self._block('iter_3.pth')
        with pytest.raises(OSError):
            runner.train()
        assert osp.isfile(osp.join(self.temp_dir.name, 'iter_2.pth'))
        with open(osp.join(self.temp_dir.name, 'last_checkpoint')) as f:
            assert f.read().endswith('iter_2.pth')

    def test_best_checkpoint(self):
        cfg = self.iter_based_cfg
        cfg.train_cfg.max_iters = 2
        cfg.train_cfg.val_interval = 1
        cfg.val_evaluator = [dict(type='ToyMetric')]
        cfg.default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', interval=100, by_epoch=False,
            save_best='acc', rule='greater'))
        runner = self.build_runner(cfg)
        # ToyMetric always scores 1: make the second validation better.
        scores = iter([0.5, 0.9])
        runner.val_evaluator.metrics[0].compute_metrics = \
            lambda results: dict(acc=next(scores))
        self._block('best_acc_iter_2.pth')
        with pytest.raises(OSError):
            runner.train()
        assert osp.isfile(osp.join(self.temp_dir.name, 'best_acc_iter_1.pth'))
