# FCN-8s (Long et al. 2015): VGG16 with fc6/fc7 as convolutions, ImageNet
# weights from torchvision, skip fusion from pool4 and pool3. fcn16s/fcn32s
# configs change `skips` and the inputs of the head.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # torchvision's VGG16 weights expect RGB normalised with ImageNet stats
    # (the Caffe models subtracted a BGR mean only).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # Batches are padded to their largest image only: the head crops/pads
    # its maps, so sizes need not be multiples of 32 (mmseg's stack_batch
    # wants a size or a divisor; 1 rounds nothing).
    size_divisor=1)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='VGG16',
        out_indices=(2, 3, 4),
        with_fc=True,
        fc_channels=4096,
        dropout_ratio=0.5,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')),
    decode_head=dict(
        type='SkipFCNHead',
        style='paper',
        skips=2,
        in_channels=[256, 512, 4096],  # pool3, pool4, fc7
        in_index=[0, 1, 2],
        channels=4096,
        dropout_ratio=0.0,  # fc6/fc7 carry the paper's dropout
        num_classes=21,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
