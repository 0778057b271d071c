# Copyright (c) OpenMMLab. All rights reserved.
import os
import os.path as osp
from itertools import islice
from unittest import mock

from mmengine.testing import RunnerTestCase


class TestResumeSeed(RunnerTestCase):
    """Resuming a run whose config draws a random seed continues with that
    run's seed, data order included: the train dataloader's sampler and
    workers are seeded when it is built, before ``resume`` reads the
    checkpoint."""

    # Loading the checkpoint under torch >= 2.6 defaults is another fix
    # (test_checkpoint_weights_only.py); this test is about the seed.
    @mock.patch.dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
    def test_resumed_dataloader_uses_the_resumed_seed(self):
        cfg = self.iter_based_cfg
        cfg.randomness = dict(seed=None)
        cfg.train_cfg.max_iters = 3
        cfg.default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', interval=2, by_epoch=False))
        first = self.build_runner(cfg)
        first.train()
        # Where the (infinite) sampler stands after three iterations: the
        # indices the next iterations would draw.
        order = list(islice(first.train_dataloader.sampler, 24))

        cfg.experiment_name = 'resumed'
        cfg.resume = True
        cfg.load_from = osp.join(self.temp_dir.name, 'iter_2.pth')
        resumed = self.build_runner(cfg)
        resumed.train()
        assert resumed.seed == first.seed
        assert resumed.train_dataloader.sampler.seed == first.seed
        assert list(islice(resumed.train_dataloader.sampler, 24)) == order
