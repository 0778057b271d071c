# SNUNet-CD with ECAM (Fang et al., 2022): a siamese NestedUNet whose
# ECAM output (4 x base_channels, full resolution) goes to a 1x1 two-class
# softmax classifier (mmseg's FCNHead without convs), as open-cd configures
# it. base_channels 16 here (changedet_snunet_c16.py); c32 overrides it.
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
    # Four 2x poolings.
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SNUNetECAM',
        in_channels=3,
        base_channels=16,
        up_source='both',
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        in_index=-1,
        channels=64,
        num_convs=0,
        concat_input=False,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
