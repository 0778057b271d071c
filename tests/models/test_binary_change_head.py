import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import seg_plugins  # noqa: F401

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def samples(label):
    out = []
    for lab in label:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        out.append(s)
    return out


def head(**kwargs):
    return MODELS.build(dict(type='BinaryChangeHead', in_channels=4,
                             **kwargs))


def test_one_logit_and_default_threshold():
    h = head()
    assert h.out_channels == 1 and h.threshold == 0.5
    assert h([torch.randn(2, 4, 8, 8)]).shape == (2, 1, 8, 8)


def test_dice_scores_the_change_class():
    label = torch.zeros(1, 8, 8, dtype=torch.long)
    label[:, 2:5, 2:5] = 1
    good = (label[:, None].float() * 2 - 1) * 20  # confident, correct
    h = head(loss_bce=None)
    right = h.loss_by_feat(good, samples(label))['loss_dice']
    wrong = h.loss_by_feat(-good, samples(label))['loss_dice']
    assert right < 0.01 and wrong > 0.9


def test_ignored_pixels_do_not_count():
    torch.manual_seed(0)
    logits = torch.randn(1, 1, 8, 8)
    label = (torch.rand(1, 8, 8) > 0.5).long()
    ignored = label.clone()
    ignored[:, :, 4:] = 255
    h = head()
    full = h.loss_by_feat(logits, samples(ignored))
    cropped = h.loss_by_feat(logits[..., :4], samples(label[..., :4]))
    for key in ('loss_bce', 'loss_dice'):
        torch.testing.assert_close(full[key], cropped[key])


def test_pos_weight_weights_the_changed_class():
    logits = torch.zeros(1, 1, 4, 4)
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[:, 0] = 1
    plain = head(loss_dice=None).loss_by_feat(logits, samples(label))
    weighted = head(loss_dice=None, pos_weight=5.0).loss_by_feat(
        logits, samples(label))
    # bce(0) = ln 2 per pixel; 4 of 16 pixels weigh 5x.
    log2 = torch.log(torch.tensor(2.0))
    torch.testing.assert_close(plain['loss_bce'], log2)
    torch.testing.assert_close(weighted['loss_bce'], log2 * (12 + 20) / 16)


def test_needs_a_loss():
    with pytest.raises(AssertionError, match='at least one'):
        head(loss_bce=None, loss_dice=None)
