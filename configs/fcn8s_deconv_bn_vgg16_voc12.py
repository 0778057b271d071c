# The FCN8s recipe of the tutorial "pytorch使用voc分割数据集训练FCN流程讲解"
# (FCN: Long et al. 2015): VGG16 conv layers (ImageNet weights, no fc6/fc7),
# its deconv+BN decoder (five 3x3 stride-2 transposed convs with ReLU and
# BN, pool4 and pool3 added, 1x1 classifier), 224x224 crops, batch 32,
# CrossEntropy (mean), SGD lr 1e-3 momentum 0.7, 50 epochs; best (mIoU) and
# last checkpoints kept. Differences: crops are random rather than always
# top-left, images smaller than 224 are padded (label 255, ignored) rather
# than dropped, and validation runs on whole images with IoUMetric over the
# whole split rather than on 224 crops averaged per batch.
_base_ = [
    './_base_/models/fcn_vgg16.py', './_base_/datasets/voc12.py',
    './_base_/default_runtime.py'
]
crop_size = (224, 224)
model = dict(
    backbone=dict(with_fc=False),
    decode_head=dict(
        style='deconv_bn',
        in_channels=[256, 512, 512],  # pool3, pool4, pool5
        channels=32,
        decoder_channels=(512, 256, 128, 64, 32),
        norm_cfg=dict(type='BN', requires_grad=True),
        act_cfg=dict(type='ReLU')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadColorAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=255)),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.7, weight_decay=0.0))
auto_scale_lr = dict(enable=False, base_batch_size=32)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_last=True,
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IndexedSegVisualizationHook'))
custom_hooks = [dict(type='SegTrainVisHook', interval=100)]
