"""Every shipped config loads and states the batch its lr was set for."""
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.conftest import REPO, run_tool

CONFIGS = sorted((REPO / 'configs').glob('*.py'))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_auto_scale_lr_matches_the_recipe_batch(path: Path):
    """The recipes are for one GPU: ``--auto-scale-lr`` must be a no-op
    there, i.e. base_batch_size is the config's own batch size."""
    cfg = Config.fromfile(path)
    assert cfg.auto_scale_lr.enable is False
    assert cfg.auto_scale_lr.base_batch_size == \
        cfg.train_dataloader.batch_size


def test_auto_scale_lr_without_base_batch_is_a_clear_error(tmp_path):
    config = tmp_path / 'no_scale.py'
    config.write_text(f"_base_ = ['{REPO / 'configs/unet_strided_demo.py'}']\n"
                      "auto_scale_lr = None\n")
    out = run_tool('tools/train.py', config, '--auto-scale-lr',
                   expect_fail=True)
    assert 'needs auto_scale_lr = dict(base_batch_size=...)' in out
    assert 'Traceback' not in out


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_seg_configs_use_the_test_only_safe_visualization_hook(path: Path):
    """mmseg's SegVisualizationHook builds the training data under
    ``tools/test.py --show-dir``; every mmseg config uses ours."""
    cfg = Config.fromfile(path)
    if cfg.default_scope == 'mmseg':
        assert cfg.default_hooks.visualization.type == \
            'IndexedSegVisualizationHook'
