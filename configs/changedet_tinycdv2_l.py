# TinyCDv2-L: changedet_tinycdv2_b.py at 1.2x the width, with 4 pair blocks
# and 6 blocks in the third stage.
_base_ = ['./changedet_tinycdv2_b.py']
model = dict(
    backbone=dict(arch='l'),
    decode_head=dict(in_channels=[48, 24, 32, 40, 56]))
