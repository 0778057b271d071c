# ResNet-18 V1c run on both dates of the pair with one set of weights
# (SiameseResNetV1c), inside the change models' frame; BIT and ChangerEx
# set its stages, strides, exchanges and their heads. Inputs padded to
# multiples of 32, as open-cd does for them.
_base_ = ['./change_pair_softmax.py']
model = dict(
    data_preprocessor=dict(size_divisor=32, test_cfg=dict(size_divisor=32)),
    backbone=dict(
        type='SiameseResNetV1c',
        in_channels=3,
        depth=18,
        norm_cfg={{_base_.norm_cfg}},
        norm_eval=False,
        style='pytorch',
        # No init_cfg: nothing is downloaded. An ImageNet ResNet-18
        # checkpoint of mmseg, mmpretrain, timm (resnet18d) or torchvision
        # layout loads with (in a child config)
        #   model = dict(backbone=dict(init_cfg=dict(
        #       type='Pretrained', checkpoint='resnet18.pth')))
        contract_dilation=True))
