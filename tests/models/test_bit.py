"""BIT (configs/changedet_bit_r18.py): counts, shapes, bad input, ONNX."""
import pytest
import torch

from seg_plugins.models.change_detectors.bit import BITHead, TokenAttention
from tests.models.resnet_cd_helpers import (
    assert_count,
    assert_ort_parity,
    assert_scene_inference,
    build,
    narrow,
    random_pair,
)

CONFIG = 'configs/changedet_bit_r18.py'
NARROW = narrow(64)  # layer3 of 16 base channels


def test_counts_match_open_cd():
    # open-cd: 2,989,638 params, 8.75 G MACs; here its decoder layers share
    # one norm for pixels and tokens and the tokenizer conv has no bias, as
    # in the BIT authors' code: 516 fewer.
    assert_count(CONFIG, 2_989_638, 8.75)


@pytest.mark.parametrize('bands', [3, 4])
def test_full_resolution_logits(bands):
    model = build(CONFIG, {**NARROW, 'model.backbone.in_channels': bands})
    with torch.no_grad():
        feats = model.eval().backbone(random_pair(bands, 32, 64))
        logits = model.decode_head(feats)
    assert [f.shape for f in feats] == [(2, 128, 4, 8)]  # 64 per date
    assert logits.shape == (2, 2, 32, 64)


def test_wrong_band_count_names_the_config_field():
    model = build(CONFIG, {**NARROW, 'model.backbone.in_channels': 4})
    with pytest.raises(ValueError, match=r'model\.backbone\.in_channels=4 '
                       r'.* 8 channels .*got 6'):
        model.backbone(random_pair(3, 32, 32))
    # One image instead of a pair (a single-image pipeline).
    with pytest.raises(ValueError, match='one image: load a pair'):
        model.backbone(random_pair(2, 32, 32)[:, :4])


def test_tokens_are_attention_weighted_means():
    head = BITHead(in_channels=8, channels=4, token_len=2, num_classes=2,
                   dec_depth=1)
    x = torch.randn(1, 4, 5, 6)
    with torch.no_grad():
        head.token_attn.weight.zero_()  # uniform attention: the mean
        tokens = head.tokenize(x)
    assert tokens.shape == (1, 2, 4)
    torch.testing.assert_close(tokens[0, 0], x.mean(dim=(2, 3))[0])


def test_attention_attends_to_the_keys():
    attn = TokenAttention(dims=4, embed_dims=8, num_heads=2).eval()
    q, k = torch.randn(1, 3, 4), torch.randn(1, 5, 4)
    out = attn(q, k)
    assert out.shape == (1, 3, 4)
    # Keys all equal: every query gets the same value back.
    same = attn(q, k[:, :1].expand(1, 5, 4))
    torch.testing.assert_close(same[0, 0], same[0, 2])
    assert not torch.allclose(out[0, 0], out[0, 2])


def test_onnx_parity_and_scene_inference(tmp_path):
    assert_scene_inference(*assert_ort_parity(CONFIG, tmp_path, NARROW),
                           tmp_path)


def test_train_step_reaches_every_part():
    """One optimiser step on a 32^2 pair: the loss on full-size logits
    reaches the backbone, the tokenizer and the token positions."""
    from mmengine.optim import OptimWrapper
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    model = build(CONFIG, NARROW)
    torch.manual_seed(0)
    label = (torch.rand(1, 32, 32) < 0.3).long()
    data = dict(inputs=[torch.randint(0, 256, (6, 32, 32), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[SegDataSample(
                    gt_sem_seg=PixelData(data=label),
                    metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32)))
                    for _ in range(2)])
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['decode.loss_ce'])
    for name in ('backbone.stem.0.weight', 'decode_head.token_attn.weight',
                 'decode_head.pos_embed', 'decode_head.decoder.7.ffn.layers.1'
                 '.weight'):
        assert not torch.equal(before[name],
                               dict(model.named_parameters())[name]), name
