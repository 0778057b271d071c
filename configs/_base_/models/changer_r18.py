# ChangerEx (Fang et al., 2023): ResNet-18 V1c on both dates with shared
# weights, spatial exchange after stage 2 and channel exchange after stages
# 3 and 4 (half of the columns / channels swapped between the dates), then
# Changer's head (per-level 1x1 convs fused at 1/4, flow dual-alignment
# fusion, MixFFN, 1x1 two-class classifier; logits at 1/4), as open-cd
# configures it (inputs padded to multiples of 32, as there).
_base_ = ['./change_pair_softmax.py']
model = dict(
    data_preprocessor=dict(size_divisor=32, test_cfg=dict(size_divisor=32)),
    backbone=dict(
        type='SiameseResNetV1c',
        in_channels=3,
        depth=18,
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        exchanges=('none', 'spatial', 'channel', 'channel'),
        exchange_ratio=0.5,
        norm_cfg={{_base_.norm_cfg}},
        norm_eval=False,
        style='pytorch',
        # No init_cfg: open-cd trains ChangerEx from scratch and nothing is
        # downloaded. An ImageNet ResNet-18 (mmseg, mmpretrain, timm
        # resnet18d or torchvision layout) loads with (in a child config)
        #   model = dict(backbone=dict(init_cfg=dict(
        #       type='Pretrained', checkpoint='resnet18.pth')))
        contract_dilation=True),
    decode_head=dict(
        type='ChangerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=128,
        dropout_ratio=0.1))
