# BIT (Chen et al., 2021): ResNet-18 V1c's first three stages (layer3 at
# stride 1: 1/8 resolution, 256 channels) run on both dates with shared
# weights, then the bitemporal image transformer (4 tokens per date, 1
# encoder and 8 decoder layers, width 32) and a 1x1 two-class classifier at
# full resolution, as open-cd configures it (inputs padded to multiples of
# 32, as there).
_base_ = ['./change_pair_softmax.py']
model = dict(
    data_preprocessor=dict(size_divisor=32, test_cfg=dict(size_divisor=32)),
    backbone=dict(
        type='SiameseResNetV1c',
        in_channels=3,
        depth=18,
        num_stages=3,
        strides=(1, 2, 1),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        norm_cfg={{_base_.norm_cfg}},
        norm_eval=False,
        style='pytorch',
        # No init_cfg: nothing is downloaded. The published F1 starts from
        # ImageNet weights: a ResNet-18 checkpoint of mmseg, mmpretrain, timm
        # (resnet18d) or torchvision layout loads with (in a child config)
        #   model = dict(backbone=dict(init_cfg=dict(
        #       type='Pretrained', checkpoint='resnet18.pth')))
        contract_dilation=True),
    decode_head=dict(
        type='BITHead',
        in_channels=256,
        in_index=-1,
        channels=32,
        token_len=4,
        embed_dims=64,
        num_heads=8,
        ffn_channels=64,
        enc_depth=1,
        dec_depth=8,
        pre_upsample=2,
        upsample=4,
        dropout_ratio=0.1,
        # The transformer's norms are LayerNorms (transformer_norm_cfg).
        norm_cfg=None))
