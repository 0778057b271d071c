"""SNUNet-CD with ECAM: parameters and MACs against open-cd's
implementation, shapes for 3- and 4-band pairs, the up path's two sources,
bad input, and ONNX Runtime parity."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from seg_plugins.utils.complexity import complexity
from tests.models.resnet_cd_helpers import (
    assert_ort_parity,
    load_config,
    random_pair,
)

# open-cd's implementation, counted: parameters, MACs (G) at one 256^2
# pair (its deepest level runs on date B only: up_source='b' here).
OPEN_CD = {'c16': (3_012_178, 11.73), 'c32': (12_034_978, 46.70)}
TINY = {'model.backbone.base_channels': 4,
        'model.decode_head.in_channels': 16,
        'model.decode_head.channels': 16}


def backbone(**kwargs):
    init_default_scope('mmseg')
    return MODELS.build(dict(type='SNUNetECAM', base_channels=4, **kwargs))


@pytest.mark.parametrize('width', list(OPEN_CD))
def test_counts_match_open_cd(width):
    params, macs = OPEN_CD[width]
    config = f'configs/changedet_snunet_{width}.py'
    got_params, got_macs = complexity(config)
    assert abs(got_params - params) <= 0.005 * params, got_params
    # open-cd's structure: within 0.5 %.
    _, macs_b = complexity(
        load_config(config, {'model.backbone.up_source': 'b'}))
    assert abs(macs_b / 1e9 - macs) <= 0.005 * macs, macs_b
    # The paper's (default): the deepest level on date A too, +2 %.
    assert 1.01 < got_macs / macs_b < 1.03


@pytest.mark.parametrize('bands', [3, 4])
def test_forward_shapes(bands):
    model = backbone(in_channels=bands).eval()
    with torch.no_grad():
        outs = model(random_pair(bands, 32, 48))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 48)]


def test_up_sources_share_weights_and_differ_in_the_deep_path():
    both = backbone().eval()
    only_b = backbone(up_source='b').eval()
    only_b.load_state_dict(both.state_dict())  # same modules
    x = random_pair(3, 32, 32)
    with torch.no_grad():
        out_both, out_b = both(x)[0], only_b(x)[0]
        # 'both' upsamples the mean of the dates' deep maps, 'b' date B's.
        assert not torch.allclose(out_both, out_b)
        # With both dates equal, the mean is date B's.
        same = torch.cat((x[:, 3:], x[:, 3:]), dim=1)
        torch.testing.assert_close(both(same)[0], only_b(same)[0])


def test_bad_inputs_name_the_config_field():
    model = backbone()
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=3 '
                       r'.* got 3 \(one image'):
        model(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match='2 x 3 = 6 channels .* got 8'):
        model(random_pair(4, 32, 32))
    with pytest.raises(ValueError, match=r'multiples of 16 .*24x32.*'
                       r'model\.data_preprocessor\.size_divisor=16'):
        model(torch.zeros(1, 6, 24, 32))
    with pytest.raises(AssertionError, match='up_source must be in'):
        backbone(up_source='a')


def test_onnx_runtime_matches_pytorch(tmp_path):
    assert_ort_parity('configs/changedet_snunet_c16.py', tmp_path, TINY)
