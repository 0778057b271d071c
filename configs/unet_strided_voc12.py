# The strided-conv U-Net variant of the tutorial "图像分割" (64-1024 channels)
# on VOC 2012 (JPEGImages + SegmentationClass, palette or RGB colour PNGs),
# trained as the tutorial does: 256 letterbox, batch 2, Adam (lr 1e-3), an
# image | label | prediction picture every 100 iterations. It regresses RGB
# colours with a sigmoid and BCE; here 21 classes with softmax CE, so that
# mIoU means something. Best (mIoU) and last checkpoints kept.
_base_ = [
    './_base_/models/strided_unet_fcn.py',
    './_base_/datasets/voc12_letterbox.py',
    './_base_/default_runtime.py'
]
model = dict(decode_head=dict(num_classes=21))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
auto_scale_lr = dict(enable=False, base_batch_size=2)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook',
        by_epoch=False,
        interval=2000,
        max_keep_ckpts=1,
        save_last=True,
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IndexedSegVisualizationHook'))
custom_hooks = [dict(type='SegTrainVisHook', interval=100)]
log_processor = dict(by_epoch=False)
