# LightCDNet-l: the -s recipe with the large widths (16 DSFM units).
_base_ = ['./changedet_lightcdnet_s.py']
model = dict(
    backbone=dict(arch='l'),
    decode_head=dict(in_channels=[24, 176, 352, 704]))
