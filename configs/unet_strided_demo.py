# The strided-conv U-Net variant of the tutorial "图像分割" (16 base channels
# for a quick CPU run) + FCNHead on
# the tiny synthetic shapes dataset, evaluated with mmseg's IoUMetric.
#   python tools/dataset_converters/make_shapes_dataset.py --out data/shapes
#   python tools/train.py configs/unet_strided_demo.py
_base_ = [
    './_base_/models/strided_unet_fcn.py', './_base_/datasets/shapes.py',
    './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16, num_classes=3))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
auto_scale_lr = dict(enable=False, base_batch_size=4)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook', by_epoch=False, interval=100,
        save_best='mIoU', max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IndexedSegVisualizationHook'))
