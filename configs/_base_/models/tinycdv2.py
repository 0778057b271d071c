# TinyCDv2 (the TinyCD authors' second version, as open-cd ships it):
# TinyCDv2 encoder (arch 'b' here; _s and _l override it) and
# TinyCDv2Head (FPN, difference gate, 1x1 two-class classifier at 1/2
# resolution; the loss and inference upsample).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiImageSegDataPreProcessor',
    num_images=2,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # A stride-2 stem and three stride-2 stages.
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TinyCDv2',
        in_channels=3,
        arch='b',
        strip_kernel_sizes=(41, 31, 21, 11),
        norm_cfg=dict(type='BN', requires_grad=True),
        act_cfg=dict(type='ReLU6')),
    decode_head=dict(
        type='TinyCDv2Head',
        # The backbone's out_channels: the stacked pair, then 4 stages.
        in_channels=[32, 16, 24, 32, 48],
        channels=24,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
