# BIT (Chen et al., 2021): ResNet-18 V1c's first three stages (layer3 at
# stride 1: 1/8 resolution, 256 channels) on both dates, then the
# bitemporal image transformer (4 tokens per date, 1 encoder and 8 decoder
# layers, width 32) and a 1x1 two-class classifier at full resolution, as
# open-cd configures it. Its published F1 starts from ImageNet weights
# (model.backbone.init_cfg, see siamese_resnet18_v1c.py).
_base_ = ['./siamese_resnet18_v1c.py']
model = dict(
    backbone=dict(
        num_stages=3,
        strides=(1, 2, 1),
        dilations=(1, 1, 1),
        out_indices=(2, )),
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
