# The headline model with a two-class softmax head instead of the one-logit
# BinaryChangeHead: mmseg's FCNHead (1x1 classifier) and cross entropy.
# ChangeMetric reads class 1 as 'changed' and sweeps thresholds on its
# softmax probability.
_base_ = ['./changedet_unet.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=16,
        in_index=-1,
        channels=16,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)))
