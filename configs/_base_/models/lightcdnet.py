# LightCDNet-s (Xing et al., 2023): early-fusion ShuffleNetV2 encoder with
# criss-cross attention, pyramid decoder at 1/2 resolution, and an
# auxiliary head on the fused map (the DSFM's deep supervision). Two-class
# softmax; the loss upsamples the 1/2-resolution logits.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiImageSegDataPreProcessor',
    num_images=2,
    # Per image (RGB); repeated for each date.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='LightCDNet',
        arch='s',
        in_channels=3,
        stage_blocks=(4, 8, 4),
        cca_recurrence=2,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='LightCDHead',
        in_channels=[24, 48, 96, 192],
        channels=48,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=24,
        in_index=0,
        channels=24,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
