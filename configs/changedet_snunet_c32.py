# SNUNet-CD/32 with ECAM: changedet_snunet_c16.py at twice the width.
_base_ = ['./changedet_snunet_c16.py']
base_channels = 32
model = dict(
    backbone=dict(base_channels=base_channels),
    decode_head=dict(
        in_channels=base_channels * 4, channels=base_channels * 4))
