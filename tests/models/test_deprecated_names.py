"""Names kept for one release: ``type='SeedUNet'`` and ``style='doc'`` still
build, warn naming their replacement, and give the same network."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

import seg_plugins  # noqa: F401  (registers the modules)

REPO = Path(__file__).resolve().parents[2]


def test_config_with_old_backbone_type_builds_and_warns():
    cfg = Config.fromfile(REPO / 'configs/unet_strided_demo.py')
    cfg.model.backbone.update(type='SeedUNet', base_channels=4, num_stages=3)
    cfg.model.decode_head.update(in_channels=4, channels=4, in_index=-1)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        with pytest.warns(FutureWarning, match='StridedConvUNet'):
            old = MODELS.build(cfg.model)
        cfg.model.backbone.type = 'StridedConvUNet'
        new = MODELS.build(cfg.model)
    assert isinstance(old.backbone, type(new.backbone))
    # Same parameter names and shapes: checkpoints load across the rename.
    new.load_state_dict(old.state_dict(), strict=True)
    old.eval(), new.eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(old.backbone(x)[-1], new.backbone(x)[-1])


def test_old_fcn_head_style_builds_as_deconv_bn_and_warns():
    common = dict(type='SkipFCNHead', in_channels=[8, 8, 8],
                  in_index=[0, 1, 2], channels=4, skips=2,
                  decoder_channels=(8, 8, 4), num_classes=3,
                  norm_cfg=dict(type='BN'))
    with pytest.warns(FutureWarning, match="style='deconv_bn'"):
        old = MODELS.build(dict(common, style='doc'))
    assert old.style == 'deconv_bn'
    new = MODELS.build(dict(common, style='deconv_bn'))
    new.load_state_dict(old.state_dict(), strict=True)
    old.eval(), new.eval()
    feats = [torch.rand(1, 8, 8, 8), torch.rand(1, 8, 4, 4),
             torch.rand(1, 8, 2, 2)]
    with torch.no_grad():
        assert torch.equal(old(feats), new(feats))


def test_new_names_do_not_warn(recwarn):
    MODELS.build(dict(type='StridedConvUNet', base_channels=4, num_stages=3))
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]
