# The frame of the change models of today: mmseg's EncoderDecoder over an
# RGB pair stacked on channels (normalised per date, padded to multiples of
# 16), a two-class softmax head with cross entropy, whole-image test. A
# model base adds its backbone and its head's type and widths.
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
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
