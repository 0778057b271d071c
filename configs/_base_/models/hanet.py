# HANet (Han et al., 2023): siamese encoder, per-level dilated fusion and
# hierarchical (channel + row/column) attention, full-resolution output;
# mmseg's FCNHead as the 1x1 two-class classifier.
# Row/column attention at full resolution needs ~4 GiB for one 1024^2
# pair: inference runs on 256^2 slide windows (192 apart, overlaps
# averaged), which bounds it by the window.
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
base_channels = 40
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='HANet',
        in_channels=3,
        base_channels=base_channels,
        cam_channels=32,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead',
        in_channels=2 * base_channels,
        channels=2 * base_channels,
        in_index=-1,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(192, 192)))
