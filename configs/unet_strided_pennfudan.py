# The strided-conv U-Net variant of the tutorial "图像分割" (64 base channels)
# + FCNHead as person/background segmentation of PennFudanPed (the data of
# its Mask R-CNN section), trained as the tutorial trains its U-Net: Adam
# (lr 1e-3), batch 2, 256x256 inputs.
#   python tools/train.py configs/unet_strided_pennfudan.py
_base_ = [
    './_base_/models/strided_unet_fcn.py',
    './_base_/datasets/pennfudan_semantic.py', './_base_/default_runtime.py'
]
# Training batches are padded to 256x256 (the padding is ignored by the
# loss); test images to a multiple of 16, as the U-Net needs.
model = dict(
    data_preprocessor=dict(size=(256, 256), size_divisor=None),
    decode_head=dict(num_classes=2))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
auto_scale_lr = dict(enable=False, base_batch_size=2)
# 60 iterations an epoch on the 120 training images; 100 epochs.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6000, val_interval=600)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook', by_epoch=False, interval=600,
        save_best='mIoU', max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IndexedSegVisualizationHook'))
