"""ChangerEx (configs/changedet_changerex_r18.py): exchanges, flow warp,
counts, shapes, bad input, ONNX."""
import pytest
import torch

from seg_plugins.models.change_detectors.changer import warp
from seg_plugins.models.change_detectors.siamese_resnet import (
    SiameseResNetV1c,
    exchange,
)
from tests.models.resnet_cd_helpers import (
    assert_count,
    assert_ort_parity,
    assert_scene_inference,
    build,
    narrow,
    random_pair,
)

CONFIG = 'configs/changedet_changerex_r18.py'
NARROW = narrow([16, 32, 64, 128])


def test_counts_match_open_cd():
    assert_count(CONFIG, 11_390_946, 5.96)


def test_spatial_exchange_swaps_every_other_column():
    a, b = torch.zeros(1, 2, 3, 5), torch.ones(1, 2, 3, 5)
    out_a, out_b = exchange(a, b, period=2, axis=3)
    assert out_a[0, 0, 0].tolist() == [1, 0, 1, 0, 1]
    torch.testing.assert_close(out_b, 1 - out_a)


def test_channel_exchange_swaps_every_other_channel():
    a = torch.arange(4.).view(1, 4, 1, 1).expand(2, 4, 3, 3)
    out_a, out_b = exchange(a, a + 10, period=2, axis=1)
    assert out_a[1, :, 2, 2].tolist() == [10, 1, 12, 3]
    assert out_b[0, :, 0, 0].tolist() == [0, 11, 2, 13]


def test_exchange_policy_per_stage():
    net = SiameseResNetV1c(depth=18, exchanges=('none', 'spatial', 'channel',
                                                'channel'))
    assert net.exchange_period == 2
    with pytest.raises(AssertionError, match='one entry per stage'):
        SiameseResNetV1c(depth=18, exchanges=('spatial', ))
    with pytest.raises(AssertionError, match='must be an integer'):
        SiameseResNetV1c(depth=18, exchange_ratio=0.4)


def test_zero_flow_is_identity_and_a_pixel_flow_shifts_one_column():
    x = torch.randn(1, 3, 6, 8)
    torch.testing.assert_close(warp(x, torch.zeros(1, 2, 6, 8)), x)
    # The flow is divided by W; one column is 2 / (W - 1) of the grid.
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0] = 2 * 8 / 7
    shifted = warp(x, flow)
    torch.testing.assert_close(shifted[..., :-1], x[..., 1:])
    assert shifted[..., -1].abs().max() < 1e-5  # sampled outside: zeros


@pytest.mark.parametrize('bands', [3, 4])
def test_quarter_resolution_logits(bands):
    model = build(CONFIG, {**NARROW, 'model.backbone.in_channels': bands})
    with torch.no_grad():
        feats = model.eval().backbone(random_pair(bands, 32, 64))
        logits = model.decode_head(feats)
    assert [tuple(f.shape[1:]) for f in feats] == [
        (32, 8, 16), (64, 4, 8), (128, 2, 4), (256, 1, 2)]
    assert logits.shape == (2, 2, 8, 16)


def test_wrong_band_count_names_the_config_field():
    model = build(CONFIG, NARROW)
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=3 '
                       r'.*got 8'):
        model.backbone(random_pair(4, 32, 32))


def test_onnx_parity_and_scene_inference(tmp_path):
    assert_scene_inference(*assert_ort_parity(CONFIG, tmp_path, NARROW),
                           tmp_path)
