# SNUNet-CD with ECAM (Fang et al., 2022): a siamese NestedUNet whose
# ECAM output (4 x base_channels, full resolution; four 2x poolings, so
# inputs padded to multiples of 16) goes to a 1x1 two-class softmax
# classifier (mmseg's FCNHead without convs), as open-cd configures it.
# base_channels 16 here (changedet_snunet_c16.py); c32 overrides it.
_base_ = ['./change_pair_softmax.py']
model = dict(
    backbone=dict(
        type='SNUNetECAM',
        in_channels=3,
        base_channels=16,
        up_source='both',
        norm_cfg={{_base_.norm_cfg}}),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        in_index=-1,
        channels=64,
        num_convs=0,
        concat_input=False))
