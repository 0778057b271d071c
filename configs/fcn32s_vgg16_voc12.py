# FCN-32s VGG16 on VOC 2012 (paper: 59.4 mean IU on VOC2011 val; reference
# Caffe model 63.6), from ImageNet VGG16 (torchvision://vgg16).
# lr 1e-10 is for the unnormalised (summed) loss, see the schedule.
_base_ = ['./fcn8s_vgg16_voc12.py']
model = dict(decode_head=dict(skips=0, in_channels=[4096], in_index=[2]))
optim_wrapper = dict(optimizer=dict(lr=1e-10))
