"""The FCN configs' optimiser against the reference Caffe solvers
(fcn.berkeleyvision.org voc-fcn{32,16,8}s/solver.prototxt and net.py)."""
import argparse

import pytest
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

import seg_plugins  # noqa: F401  (registration)

# The README's override that keeps the x2 upsampling fixed, as the reference
# nets do (lr_mult 0), instead of learning it as the paper describes.
FIXED_UPSAMPLING = 'optim_wrapper.paramwise_cfg.custom_keys.upsample.lr_mult=0'
SMALL = ['model.backbone.init_cfg=None', 'model.backbone.fc_channels=64',
         'model.decode_head.channels=64']
IN_CHANNELS = {'fcn32s': '[64]', 'fcn16s': '[512,64]', 'fcn8s': '[256,512,64]'}


def param_groups(variant, *options):
    """{parameter name: its param group} of the variant's optimiser, built
    from options parsed as ``--cfg-options`` parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    opts = [*SMALL, f'model.decode_head.in_channels={IN_CHANNELS[variant]}',
            *options]
    args = parser.parse_args(['--cfg-options', *opts])
    cfg = Config.fromfile(f'configs/{variant}_vgg16_voc12.py')
    cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    ids = {id(p): name for name, p in model.named_parameters()}
    return {ids[id(p)]: group for group in wrapper.optimizer.param_groups
            for p in group['params']}


@pytest.mark.parametrize('variant,lr', [('fcn32s', 1e-10), ('fcn16s', 1e-12),
                                        ('fcn8s', 1e-14)])
def test_reference_solver_settings(variant, lr, mmseg_scope):
    groups = param_groups(variant)
    weight = groups['decode_head.conv_seg.weight']
    bias = groups['decode_head.conv_seg.bias']
    assert weight['lr'] == lr and weight['momentum'] == 0.99
    assert weight['weight_decay'] == 5e-4
    # Caffe's param lr_mult 2, decay_mult 0 on every bias.
    assert bias['lr'] == 2 * lr and bias['weight_decay'] == 0
    conv = groups['backbone.features.0.bias']
    assert conv['lr'] == 2 * lr and conv['weight_decay'] == 0


def test_fixed_upsampling_override(mmseg_scope):
    learned = param_groups('fcn8s')
    fixed = param_groups('fcn8s', FIXED_UPSAMPLING)
    ups = [n for n in fixed if '.upsample.' in n]
    assert ups == ['decode_head.stages.0.upsample.weight',
                   'decode_head.stages.1.upsample.weight']
    assert all(fixed[n]['lr'] == 0 for n in ups)
    assert all(learned[n]['lr'] == 1e-14 for n in ups)
    # The score layers on pool4/pool3 stay learned.
    assert fixed['decode_head.stages.0.lateral.weight']['lr'] == 1e-14
