# Mask R-CNN R50-FPN fine-tuned on PennFudanPed (as in the Mask R-CNN section
# of the tutorial "图像分割", which follows torchvision's "TorchVision Object
# Detection Finetuning Tutorial"): 1 class, 120/50 random split, SGD lr 0.005
# momentum 0.9 wd 5e-4, lr x0.1 every 3 epochs, 10 epochs, batch 2.
#   python tools/train.py configs/maskrcnn_r50_fpn_pennfudan.py \
#       --cfg-options load_from=/path/to/mask_rcnn_r50_fpn_1x_coco.pth
#   python tools/test.py configs/maskrcnn_r50_fpn_pennfudan.py CKPT \
#       --show-dir show
# Model, losses, hooks and the COCO evaluation are MMDetection's.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']

default_scope = 'mmdet'
custom_imports = dict(imports=['seg_plugins'], allow_failed_imports=False)

# The tutorial starts from COCO-trained Mask R-CNN weights. MMDetection's
# COCO checkpoint (box AP 38.2 / mask AP 34.7 on COCO val) is
#   https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/
#   mask_rcnn_r50_fpn_1x_coco/mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth
# Download it and pass load_from=<file> (or the URL where downloads work);
# its 80-class box and mask predictors do not fit the 1-class heads and are
# skipped with a shape-mismatch warning, as the tutorial replaces them.
# Without it the backbone starts from torchvision's ImageNet ResNet-50
# (downloaded on first use; offline, add model.backbone.init_cfg=None when
# loading the COCO file) and the tutorial's numbers are not expected.
load_from = None

model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))

dataset_type = 'PennFudanDataset'
data_root = 'data/PennFudanPed/'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
backend_args = None

# The tutorial's model resizes to a shorter side of 800 (longer <= 1333) and
# flips horizontally in training, as MMDetection's COCO pipeline does.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# 'instances' in the meta keys: CocoMetric without an ann_file converts the
# ground truth of each sample to COCO json on the fly.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'instances'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        # The tutorial's split: 50 test images of a seeded permutation.
        split='train',
        test_size=50,
        split_seed=0,
        # Images without pedestrians are dropped from training only.
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        split='test',
        test_size=50,
        split_seed=0,
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric',
    ann_file=None,
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator

# The tutorial's schedule: 10 epochs evaluated after each, SGD, StepLR(3,
# 0.1). Its train_one_epoch also warms the lr up linearly from 1/1000 over
# the first min(1000, iters per epoch - 1) = 59 iterations.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=59),
    dict(
        type='StepLR',
        step_size=3,
        gamma=0.1,
        by_epoch=True,
        begin=0,
        end=10)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0005))
# lr 0.005 is for 1 process x batch 2.
auto_scale_lr = dict(enable=False, base_batch_size=2)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='SafeCheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='coco/segm_mAP',
        rule='greater'),
    visualization=dict(type='DetVisualizationHook'))
