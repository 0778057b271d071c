# FCN-8s VGG16 on VOC 2012 (Long et al. 2015; paper: 62.7 mean IU on VOC2011
# val (seg11valid), 62.2 on VOC2012 test; the retrained reference Caffe
# model 65.5). Trained in stages as in the paper: initialise from FCN-16s,
#   python tools/train.py configs/fcn8s_vgg16_voc12.py \
#       --cfg-options load_from=work_dirs/fcn16s_vgg16_voc12/<best>.pth
# lr 1e-14 is for the unnormalised (summed) loss, see the schedule.
_base_ = [
    './_base_/models/fcn_vgg16.py', './_base_/datasets/voc12.py',
    './_base_/default_runtime.py', './_base_/schedules/fcn_paper_sgd.py'
]
model = dict(
    decode_head=dict(
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            reduction='sum')))
optim_wrapper = dict(optimizer=dict(lr=1e-14))
log_processor = dict(by_epoch=False)
