# TinyCDv2-S: changedet_tinycdv2_b.py at half the width.
_base_ = ['./changedet_tinycdv2_b.py']
model = dict(
    backbone=dict(arch='s'),
    decode_head=dict(in_channels=[16, 8, 16, 16, 24]))
