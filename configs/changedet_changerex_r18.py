# ChangerEx (Fang et al., 2023) with a ResNet-18 V1c, trained from scratch
# with open-cd's recipe for it on LEVIR-CD: 512x512 crops, batch 8, 40k
# iterations, AdamW lr 5e-3 wd 0.05, linear warm-up then poly; two-class
# softmax cross entropy on OHEM-selected pixels. On the 256x256 tiles of
# the README's LEVIR-CD preparation the crop is the whole tile: tile to
# 512x512 or more to train on open-cd's crops.
#   python tools/train.py configs/changedet_changerex_r18.py
_base_ = [
    './_base_/models/changer_r18.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
crop_size = (512, 512)
model = dict(
    decode_head=dict(
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=100000)))
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    # The dates in either order (open-cd's MultiImgExchangeTime).
    dict(type='RandomDateSwap', prob=0.5),
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
    dict(type='RandomRotFlip', rotate_prob=0.5, flip_prob=0.5,
         degree=(-20, 20)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=5e-3))
