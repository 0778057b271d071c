# LightCDNet-s (Xing et al., 2023): early-fusion ShuffleNetV2 encoder with
# criss-cross attention, pyramid decoder at 1/2 resolution (the loss
# upsamples its logits), and an auxiliary head on the fused map (the
# DSFM's deep supervision, loss weight 0.4), as open-cd configures it.
# Deepest map at 1/16: inputs padded to multiples of 16.
_base_ = ['./change_pair_softmax.py']
model = dict(
    backbone=dict(
        type='LightCDNet',
        arch='s',
        in_channels=3,
        stage_blocks=(4, 8, 4),
        cca_recurrence=2,
        taps='stage',
        norm_cfg={{_base_.norm_cfg}}),
    decode_head=dict(
        type='LightCDHead',
        in_channels=[24, 48, 96, 192],
        channels=48,
        dropout_ratio=0.0),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=24,
        in_index=0,
        channels=24,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4,
            avg_non_ignore=True)))
