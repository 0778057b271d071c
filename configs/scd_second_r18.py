# Semantic change detection on SECOND with ResNet-18 V1c on both dates
# (shared weights), the four stages resized to 1/4 and concatenated per
# date; one GPU, 40k iterations of 8 pairs; best checkpoint by SeK.
#   python tools/train.py configs/scd_second_r18.py
_base_ = ['./scd_second_unet.py']
model = dict(
    data_preprocessor=dict(size_divisor=32, test_cfg=dict(size_divisor=32)),
    backbone=dict(
        _delete_=True,
        type='SiameseResNetV1c',
        in_channels=3,
        depth=18,
        norm_cfg={{_base_.norm_cfg}},
        norm_eval=False,
        style='pytorch',
        # ImageNet ResNet-18 weights (mmseg/mmpretrain/timm/torchvision
        # layout) load with init_cfg=dict(type='Pretrained', checkpoint=...).
        contract_dilation=True),
    decode_head=dict(in_channels=[64, 128, 256, 512], levels=[0, 1, 2, 3],
                     channels=128))
