"""LightCDNet: parameters and MACs against open-cd's implementation, shapes
for 3- and 4-band pairs, bad input, the exportable criss-cross attention,
and ONNX Runtime parity."""
import pytest
import torch
from mmcv.ops import CrissCrossAttention

from seg_plugins.models.change_detectors.lightcdnet import LightCDNet
from seg_plugins.models.utils.criss_cross_attention import (
    ExportableCrissCrossAttention,
)
from seg_plugins.utils.complexity import complexity, count_params
from tests.models.attention_parity import assert_ort_parity
from tests.models.resnet_cd_helpers import build, random_pair

# open-cd's implementation, counted: parameters with and without its
# auxiliary head, and MACs (G) at one 256^2 pair with its taps.
OPEN_CD = {
    's': (347_771, 342_489, 1.68),
    'b': (1_318_433, 1_313_151, 3.16),
    'l': (2_821_019, 2_815_737, 5.69),
}
WIDTHS = {'s': (24, 48, 96, 192), 'b': (24, 116, 232, 464),
          'l': (24, 176, 352, 704)}


@pytest.mark.parametrize('arch', list(OPEN_CD))
def test_counts_match_open_cd(arch):
    model = build(f'configs/changedet_lightcdnet_{arch}.py')
    params, without_aux, macs = OPEN_CD[arch]
    total = count_params(model)
    assert abs(total - params) <= 0.005 * params, total
    without = total - count_params(model.auxiliary_head)
    assert abs(without - without_aux) <= 0.005 * without_aux, without
    # open-cd's taps leave the last stage's final layers unused, and its
    # MACs leave them out; the paper's taps run them.
    model.backbone.taps = LightCDNet(arch, taps='open-cd').taps
    got = complexity(model, (256, 256))[1] / 1e9
    assert abs(got - macs) <= 0.01 * macs, got


@pytest.mark.parametrize('bands', [3, 4])
def test_shapes_for_three_and_four_band_pairs(bands):
    model = build('configs/changedet_lightcdnet_s.py',
                  {'model.backbone.in_channels': bands}).eval()
    x = random_pair(bands, 64, 96)
    with torch.no_grad():
        feats = model.backbone(x)
        logits = model(x, mode='tensor')
    assert [tuple(f.shape) for f in feats] == [
        (2, c, 64 // 2**(i + 1), 96 // 2**(i + 1))
        for i, c in enumerate(WIDTHS['s'])]
    assert logits.shape == (2, 2, 32, 48)  # 1/2; the loss upsamples


def test_bad_input_names_the_config_field():
    net = LightCDNet('s')
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=3 '
                       r'.* got 3 \(one image: load a pair'):
        net(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='needs 2 x 3 = 6 channels .*got 8'):
        net(torch.randn(1, 8, 32, 32))
    with pytest.raises(AssertionError, match="arch must be one of"):
        LightCDNet('xl')


def test_open_cd_taps_skip_the_unused_layers():
    paper, open_cd = LightCDNet('s'), LightCDNet('s', taps='open-cd')
    open_cd.load_state_dict(paper.state_dict())
    assert paper.taps == [4, 13, 18] and open_cd.taps == [3, 11, 15]
    x = random_pair(3, 32, 32)
    with torch.no_grad():
        a, b = paper.eval()(x), open_cd.eval()(x)
    torch.testing.assert_close(a[0], b[0])  # the fused map is shared
    assert [f.shape for f in a] == [f.shape for f in b]


def test_exportable_criss_cross_attention_equals_mmcv():
    torch.manual_seed(0)
    ref = CrissCrossAttention(16)
    ref.gamma.scale.data.fill_(0.7)  # 0 at init: the attention counts
    once = ExportableCrissCrossAttention(16)
    twice = ExportableCrissCrossAttention(16, recurrence=2)
    once.load_state_dict(ref.state_dict())
    twice.load_state_dict(ref.state_dict())
    x = torch.randn(2, 16, 12, 9)
    with torch.no_grad():
        torch.testing.assert_close(once(x), ref(x))
        torch.testing.assert_close(twice(x), ref(ref(x)))


def test_onnx_runtime_matches_pytorch(tmp_path):
    assert_ort_parity('configs/changedet_lightcdnet_s.py', tmp_path)
