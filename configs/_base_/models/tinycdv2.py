# TinyCDv2 (the TinyCD authors' second version, as open-cd ships it):
# TinyCDv2 encoder (arch 'b' here; _s and _l override it; a stride-2 stem
# and three stride-2 stages, so inputs padded to multiples of 16) and
# TinyCDv2Head (FPN, difference gate, 1x1 two-class classifier at 1/2
# resolution; the loss and inference upsample).
_base_ = ['./change_pair_softmax.py']
model = dict(
    backbone=dict(
        type='TinyCDv2',
        in_channels=3,
        arch='b',
        strip_kernel_sizes=(41, 31, 21, 11),
        norm_cfg={{_base_.norm_cfg}},
        act_cfg=dict(type='ReLU6')),
    decode_head=dict(
        type='TinyCDv2Head',
        # The backbone's out_channels: the stacked pair, then 4 stages.
        in_channels=[32, 16, 24, 32, 48],
        channels=24,
        dropout_ratio=0.0))
