# Copyright (c) OpenMMLab. All rights reserved.
import torch
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def _one_logit_tta_model():
    init_default_scope('mmseg')
    return MODELS.build(
        dict(
            type='SegTTAModel',
            module=dict(
                type='EncoderDecoder',
                backbone=dict(
                    type='ResNetV1c', depth=18, num_stages=4,
                    out_indices=(3, )),
                decode_head=dict(
                    type='FCNHead', in_channels=512, channels=4,
                    num_convs=1, num_classes=2, out_channels=1,
                    threshold=0.5,
                    loss_decode=dict(
                        type='CrossEntropyLoss', use_sigmoid=True)))))


def test_one_logit_views_are_averaged_as_probabilities():
    # The segmentor's postprocess_result stores the sigmoid probability in
    # seg_logits for a one-logit head; merging the views must not apply
    # the sigmoid again (which maps every probability above 0.5).
    tta = _one_logit_tta_model()
    logits = torch.full((1, 1, 4, 6), -2.)  # probability 0.12: background
    logits[..., :2] = 2.  # probability 0.88: foreground
    views = []
    for flip in (False, True):
        sample = SegDataSample(metainfo=dict(
            ori_shape=(4, 6), img_shape=(4, 6), padding_size=[0, 0, 0, 0],
            flip=flip, flip_direction='horizontal', img_path='a.png'))
        view = logits.flip(-1) if flip else logits
        views += tta.module.postprocess_result(view, [sample])
    merged = tta.merge_preds([views])[0].pred_sem_seg.data
    expected = torch.zeros(1, 4, 6)
    expected[..., :2] = 1
    assert torch.equal(merged.cpu().float(), expected)
