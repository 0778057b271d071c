import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import seg_plugins  # noqa: F401

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def tta(head):
    module = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='MultiImageSegDataPreProcessor'),
        backbone=dict(type='ChangeUNet', base_channels=4, num_stages=2),
        decode_head=head)
    return MODELS.build(dict(type='BinarySegTTAModel', module=module))


def view(prob):
    s = SegDataSample(metainfo=dict(img_path='x.png'))
    s.seg_logits = PixelData(data=torch.tensor(prob).view(1, 1, -1))
    s.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1, 1]]]))
    return s


def test_binary_views_average_probabilities_once():
    model = tta(dict(type='BinaryChangeHead', in_channels=4))
    # mmseg's SegTTAModel would take sigmoid(0.2), sigmoid(0.4) > 0.5 -> 1.
    out = model.merge_preds([[view([0.2, 0.6, 0.9]),
                              view([0.4, 0.2, 0.9])]])[0]
    torch.testing.assert_close(out.seg_logits.data,
                               torch.tensor([[[0.3, 0.4, 0.9]]]))
    assert out.pred_sem_seg.data.tolist() == [[[0.0, 0.0, 1.0]]]
    assert out.gt_sem_seg.data.tolist() == [[[0, 1, 1]]]


def test_multiclass_views_average_softmax_and_keep_it():
    model = tta(dict(type='FCNHead', in_channels=4, channels=4, num_convs=0,
                     concat_input=False, num_classes=2))
    logits = [torch.tensor([[[2.0, -1.0]], [[0.0, 0.0]]]),
              torch.tensor([[[0.0, 0.0]], [[1.0, 3.0]]])]
    views = []
    for x in logits:
        s = SegDataSample(metainfo=dict(img_path='x.png'))
        s.seg_logits = PixelData(data=x)
        views.append(s)
    out = model.merge_preds([views])[0]
    mean = (logits[0].softmax(0) + logits[1].softmax(0)) / 2
    # Pixel 0: (0.88 + 0.27) / 2 > 0.5 for class 0; pixel 1: class 1.
    assert out.pred_sem_seg.data.tolist() == [[[0.0, 1.0]]]
    # Metrics reading seg_logits (ChangeMetric's sweep) get the merged
    # probability back, not the last view's logits as upstream leaves them.
    torch.testing.assert_close(out.seg_logits.data.softmax(0), mean)
