"""HANet: parameters and MACs against open-cd's implementation, shapes for
3- and 4-band pairs, bad input, the row/column attention, slide
inference and ONNX Runtime parity."""
import pytest
import torch

from seg_plugins.models.change_detectors.hanet import AxialAttention, HANet
from seg_plugins.utils.complexity import complexity, count_params
from tests.models.attention_parity import assert_ort_parity
from tests.models.resnet_cd_helpers import build, random_pair

CONFIG = 'configs/changedet_hanet.py'
# open-cd's implementation, counted (its 2-class FCNHead included)...
OPEN_CD_PARAMS, OPEN_CD_MACS = 3_028_166, 20.82
# ... of which four 3x3 convs (with bias) that its forward never calls:
# c4_conv 320->80, c3_conv 160->80, c2_conv 80->80, c1_conv 40->40.
UNUSED = sum(9 * i * o + o for i, o in ((320, 80), (160, 80), (80, 80),
                                        (40, 40)))
# The config cut to 8 channels at full resolution.
TINY = {'model.backbone.base_channels': 8, 'model.backbone.cam_channels': 8,
        'model.decode_head.in_channels': 16, 'model.decode_head.channels': 16}


def test_counts_match_open_cd_without_its_unused_convs():
    assert UNUSED == 417_880
    params, macs = complexity(build(CONFIG), (256, 256))
    assert params == OPEN_CD_PARAMS - UNUSED
    assert abs(macs / 1e9 - OPEN_CD_MACS) <= 0.005 * OPEN_CD_MACS, macs


@pytest.mark.parametrize('bands', [3, 4])
def test_shapes_for_three_and_four_band_pairs(bands):
    model = build(CONFIG, dict(TINY, **{
        'model.backbone.in_channels': bands})).eval()
    with torch.no_grad():
        feats = model.backbone(random_pair(bands, 40, 48))
        logits = model(random_pair(bands, 40, 48), mode='tensor')
    assert [tuple(f.shape) for f in feats] == [(2, 16, 40, 48)]
    assert logits.shape == (2, 2, 40, 48)  # full resolution
    assert count_params(model.backbone.stem) == 5 * 5 * bands * 8 + 8


def test_bad_input_names_the_config_field():
    net = HANet(base_channels=8, cam_channels=8)
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=3 '
                       r'.* got 3 \(one image: load a pair'):
        net(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match='needs 2 x 3 = 6 channels .*got 4'):
        net(torch.randn(1, 4, 16, 16))


def test_row_and_column_attention():
    """Row attention is softmax(q_i . k_j) v_j over the pixels j of pixel
    i's row; column attention is row attention on the transposed map."""
    torch.manual_seed(0)
    row, col = AxialAttention(4, 'row'), AxialAttention(4, 'col')
    col.load_state_dict(row.state_dict())
    row.gamma.scale.data.fill_(0.5)
    col.gamma.scale.data.fill_(0.5)
    x = torch.randn(2, 4, 5, 7)
    q, k, v = (conv(x) for conv in (row.query_conv, row.key_conv,
                                    row.value_conv))
    attn = torch.einsum('nchi,nchj->nhij', q, k).softmax(-1)
    want = x + 0.5 * torch.einsum('nhij,nchj->nchi', attn, v)
    with torch.no_grad():
        torch.testing.assert_close(row(x), want)
        torch.testing.assert_close(col(x), row(x.transpose(2, 3)).transpose(
            2, 3))


def test_config_infers_by_slide_windows():
    model = build(CONFIG)
    assert model.test_cfg.mode == 'slide'
    assert tuple(model.test_cfg.crop_size) == (256, 256)


def test_onnx_runtime_matches_pytorch_in_slide_windows(tmp_path):
    # 32^2 windows 24 apart: the 64x32 input runs as three windows.
    assert_ort_parity(CONFIG, tmp_path, dict(TINY, **{
        'model.test_cfg.crop_size': (32, 32),
        'model.test_cfg.stride': (24, 24)}))
