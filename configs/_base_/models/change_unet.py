# Change-detection U-Net (ChangeUNet: FC-EF / FC-Siam, Daudt et al. 2018,
# built from the strided-conv U-Net blocks)
# with a one-logit BinaryChangeHead (sigmoid, BCE + Dice).
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
    backbone=dict(
        type='ChangeUNet',
        in_channels=3,
        num_images=2,
        fusion='early',
        base_channels=16,
        num_stages=5,
        dropout_ratio=0.2,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='BinaryChangeHead',
        in_channels=16,
        threshold=0.5,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_bce=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            avg_non_ignore=True,
            loss_weight=1.0),
        loss_dice=dict(type='DiceLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
