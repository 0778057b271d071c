# HANet (Han et al., 2023): siamese encoder, per-level dilated fusion and
# hierarchical (channel + row/column) attention, full-resolution output
# to a 1x1 two-class classifier (mmseg's FCNHead without convs, its
# default dropout 0.1 before it), as open-cd configures it. Row/column
# attention at full resolution needs ~4 GiB for one 1024^2 pair: inference
# runs on 256^2 slide windows (192 apart, overlaps averaged), which bounds
# it by the window.
_base_ = ['./change_pair_softmax.py']
model = dict(
    backbone=dict(
        type='HANet',
        in_channels=3,
        base_channels=40,
        cam_channels=32,
        norm_cfg={{_base_.norm_cfg}}),
    decode_head=dict(
        type='FCNHead',
        in_channels=80,
        in_index=-1,
        channels=80,
        num_convs=0,
        concat_input=False),
    test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(192, 192)))
