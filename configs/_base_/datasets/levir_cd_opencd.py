# LEVIR-CD 256x256 crops with open-cd's standard training augmentation
# (its configs/common/standard_256x256_40k_levircd.py): rotation by up to
# 180 degrees (p=0.5), a 256^2 crop in which one class covers at most 75%,
# horizontal and vertical flips, photometric distortion. The change models
# of today (SNUNet, TinyCDv2, LightCDNet, HANet, ChangerEx, BIT) train on it.
_base_ = ['./levir_cd.py']
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    # Photometric: each date on its own (mmseg's transform, per image).
    dict(
        type='ApplyToEachImage',
        transforms=[
            dict(
                type='PhotoMetricDistortion',
                brightness_delta=10,
                contrast_range=(0.8, 1.2),
                saturation_range=(0.8, 1.2),
                hue_delta=10)
        ]),
    dict(type='ConcatCDInput'),
    # Geometric: after concatenation A, B and the label move together.
    dict(type='RandomRotate', prob=0.5, degree=180, pad_val=0,
         seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
