# Copyright (c) OpenMMLab. All rights reserved.
import os.path as osp
import pickle

import pytest
import torch

from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.testing import RunnerTestCase
from mmengine.utils import digit_version


class NotAllowed:
    pass


@pytest.mark.skipif(
    digit_version(torch.__version__) < digit_version('2.6.0'),
    reason='torch.load defaults to weights_only=True from torch 2.6')
class TestResumeWeightsOnly(RunnerTestCase):

    def test_resume_loads_the_runner_checkpoint(self):
        cfg = self.iter_based_cfg
        cfg.train_cfg.max_iters = 2
        cfg.default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', interval=2, by_epoch=False))
        self.build_runner(cfg).train()
        ckpt = osp.join(self.temp_dir.name, 'iter_2.pth')

        cfg.train_cfg.max_iters = 3
        cfg.experiment_name = 'resumed'
        cfg.resume, cfg.load_from = True, ckpt
        runner = self.build_runner(cfg)
        runner.train()
        assert runner.iter == 3
        history = runner.message_hub.log_scalars['train/loss']
        assert isinstance(history, HistoryBuffer)
        assert len(history.data[0]) == 3  # two iterations resumed, one run

    def test_other_objects_are_still_refused(self):
        path = osp.join(self.temp_dir.name, 'other.pth')
        torch.save({'state_dict': {}, 'obj': NotAllowed()}, path)
        with pytest.raises(pickle.UnpicklingError):
            _load_checkpoint(path, map_location='cpu')
