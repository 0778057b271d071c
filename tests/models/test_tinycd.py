"""TinyCDv2: parameters and MACs against open-cd's implementation, shapes
for 3- and 4-band pairs, bad input, and ONNX Runtime parity."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from seg_plugins.utils.complexity import complexity
from tests.models.resnet_cd_helpers import (
    assert_ort_parity,
    build,
    random_pair,
)

# open-cd's implementation, counted: parameters, MACs (G) at one 256^2
# pair. Its LayerNorm2d (mmpretrain's, F.layer_norm) is counted by
# mmengine's analyzer, mmseg's (element-wise ops) used here is not: -1 %.
OPEN_CD = {'s': (45_034, 0.23), 'b': (115_642, 0.565), 'l': (263_482, 1.48)}
HEAD_IN = {'s': [16, 8, 16, 16, 24], 'b': [32, 16, 24, 32, 48],
           'l': [48, 24, 32, 40, 56]}


@pytest.mark.parametrize('arch', list(OPEN_CD))
def test_counts_match_open_cd(arch):
    params, macs = OPEN_CD[arch]
    got_params, got_macs = complexity(f'configs/changedet_tinycdv2_{arch}.py')
    assert abs(got_params - params) <= 0.005 * params, got_params
    assert abs(got_macs / 1e9 - macs) <= 0.015 * macs, got_macs


@pytest.mark.parametrize('arch,bands', [('s', 3), ('l', 4)])
def test_forward_shapes(arch, bands):
    model = build(f'configs/changedet_tinycdv2_{arch}.py',
                  {'model.backbone.in_channels': bands}).eval()
    x = random_pair(bands, 32, 48)
    with torch.no_grad():
        feats = model.backbone(x)
        logits = model.decode_head(feats)
    assert [f.shape[1] for f in feats] == HEAD_IN[arch]
    assert [tuple(f.shape[2:]) for f in feats] == [
        (16, 24), (16, 24), (8, 12), (4, 6), (2, 3)]
    assert logits.shape == (2, 2, 16, 24)  # 1/2 resolution


def test_bad_inputs_name_the_config_field():
    init_default_scope('mmseg')
    backbone = MODELS.build(dict(type='TinyCDv2', arch='s', in_channels=4))
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=4 '
                       r'.* 2 x 4 = 8 channels .* got 6'):
        backbone(random_pair(3, 32, 32))
    with pytest.raises(AssertionError, match="arch must be in"):
        MODELS.build(dict(type='TinyCDv2', arch='xl'))
    model = build('configs/changedet_tinycdv2_s.py',
                  {'model.decode_head.in_channels': HEAD_IN['b']})
    with pytest.raises(ValueError, match=r'model\.decode_head\.in_channels'
                       r'=\[32, 16, 24, 32, 48\] .* \[16, 8, 16, 16, 24\]'):
        model.decode_head(model.backbone(random_pair(3, 32, 32)))


def test_onnx_runtime_matches_pytorch(tmp_path):
    # Sizes that are not multiples of 16 too: every map is resized to the
    # size of the one it joins.
    assert_ort_parity('configs/changedet_tinycdv2_s.py', tmp_path,
                      sizes=((32, 32), (48, 40)))
