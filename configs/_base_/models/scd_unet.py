# Semantic change: the strided-convolution U-Net on both dates (shared
# weights), a shared land-cover classifier and a change branch (SCDHead);
# the preprocessor is the change U-Net's.
_base_ = ['./change_unet.py']
model = dict(
    type='SCDEncoderDecoder',
    backbone=dict(
        _delete_=True,
        type='SiameseStridedUNet',
        in_channels=3,
        base_channels=16,
        num_stages=5,
        dropout_ratio=0.0,
        norm_cfg={{_base_.norm_cfg}}),
    decode_head=dict(
        _delete_=True,
        type='SCDHead',
        in_channels=[16],
        levels=-1,
        channels=32,
        num_classes=7,
        # Bi-SRNet's semantic-consistency term; 0 switches it off.
        consistency_weight=1.0,
        dropout_ratio=0.0,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False))
