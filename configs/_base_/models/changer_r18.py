# ChangerEx (Fang et al., 2023): ResNet-18 V1c on both dates, spatial
# exchange after stage 2 and channel exchange after stages 3 and 4 (half of
# the columns / channels swapped between the dates), then Changer's head
# (per-level 1x1 convs fused at 1/4, flow dual-alignment fusion, MixFFN,
# 1x1 two-class classifier; logits at 1/4), as open-cd configures it. open-cd
# trains it from scratch, as here.
_base_ = ['./siamese_resnet18_v1c.py']
model = dict(
    backbone=dict(
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        exchanges=('none', 'spatial', 'channel', 'channel'),
        exchange_ratio=0.5),
    decode_head=dict(
        type='ChangerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=128,
        dropout_ratio=0.1))
