# The reference FCN solvers (fcn.berkeleyvision.org voc-fcn{32,16,8}s/
# solver.prototxt and net.py, "heavy" learning): batch 1, SGD momentum 0.99,
# weight decay 5e-4, biases at twice the lr and without decay, fixed lr,
# 100k iterations. Unlike the paper, those nets keep the x2 upsampling fixed
# at bilinear (lr_mult 0); the heads here learn it, as the paper describes.
# For the reference behaviour add
#   --cfg-options optim_wrapper.paramwise_cfg.custom_keys.upsample.lr_mult=0
# Their lr (set per variant) is
# for the UNNORMALISED loss, summed over the pixels of an image (Caffe's
# `normalize: false`), hence `reduction='sum'`. For mmseg's usual
# mean loss the equivalent lr is lr * (labelled pixels per image), about
# 1.9e5 * lr for VOC's 500x375 images. Configs using this schedule set
# loss_decode=dict(type='CrossEntropyLoss', reduction='sum').
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-10, momentum=0.99, weight_decay=5e-4),
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0))
# The reference solvers: one image per step. DDP averages the GPUs'
# gradients, so --auto-scale-lr (x number of GPUs) makes N GPUs sum N
# images as Caffe's iter_size does; the summed loss already grows with
# the per-GPU batch, so keep batch_size=1 with it.
auto_scale_lr = dict(enable=False, base_batch_size=1)
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=100000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The best checkpoint by mIoU and the last one, as the FCN/VOC tutorial
    # keeps them.
    checkpoint=dict(
        type='SafeCheckpointHook',
        by_epoch=False,
        interval=4000,
        max_keep_ckpts=1,
        save_last=True,
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IndexedSegVisualizationHook'))
# image | label | prediction of training batches (every 100 iters, as the
# U-Net tutorial "图像分割" saves them).
custom_hooks = [dict(type='SegTrainVisHook', interval=100)]
