# LightCDNet-b: the -s recipe with the base widths (8 DSFM units).
_base_ = ['./changedet_lightcdnet_s.py']
model = dict(
    backbone=dict(arch='b'),
    decode_head=dict(in_channels=[24, 116, 232, 464]))
