# VOC 2012 with the `keep_image_size_open` letterbox of the tutorial
# "图像分割": the longest side scaled to 256, pasted at the top-left of a
# black 256x256 square. Labels are padded with 255 (ignored) rather than
# class 0 as in the tutorial.
# Test images keep their aspect ratio (longest side 256); predictions are
# scored at the original resolution.
_base_ = ['./voc12.py']
img_scale = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadColorAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=0, seg=255)),
    dict(type='RandomFlip', prob=0.0),  # the tutorial does not flip
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadColorAnnotations'),
    dict(type='PackSegInputs')
]
# tools/test.py --tta: plain and flipped at the training scale.
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=img_scale, keep_ratio=True)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadColorAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
