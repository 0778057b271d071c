# Semantic change: the strided-convolution U-Net on both dates (shared
# weights), a shared land-cover classifier and a change branch (SCDHead).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiImageSegDataPreProcessor',
    num_images=2,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='SCDEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SiameseStridedUNet',
        in_channels=3,
        base_channels=16,
        num_stages=5,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='SCDHead',
        in_channels=[16],
        levels=-1,
        channels=32,
        num_classes=7,
        # Bi-SRNet's semantic-consistency term; 0 switches it off.
        consistency_weight=1.0,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        align_corners=False),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
