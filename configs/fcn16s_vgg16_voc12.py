# FCN-16s VGG16 on VOC 2012 (paper: 62.4 mean IU on VOC2011 val; reference
# Caffe model 65.0), initialised from FCN-32s:
#   --cfg-options load_from=work_dirs/fcn32s_vgg16_voc12/<best>.pth
# lr 1e-12 is for the unnormalised (summed) loss, see the schedule.
_base_ = ['./fcn8s_vgg16_voc12.py']
model = dict(
    decode_head=dict(skips=1, in_channels=[512, 4096], in_index=[1, 2]))
optim_wrapper = dict(optimizer=dict(lr=1e-12))
