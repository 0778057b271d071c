# LEVIR-CD tiled to 256x256 (README, "Preparing LEVIR-CD"):
#   data/levir_cd/{train,val,test}/{A,B,label}/*.png, labels 0/255.
dataset_type = 'BiTemporalChangeDataset'
data_root = 'data/levir_cd'
crop_size = (256, 256)
# img_path2 lets ChangeLocalVisualizer draw image B.
meta_keys = ('img_path', 'img_path2', 'seg_map_path', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    # Photometric: each date on its own (mmseg's transform, per image).
    dict(
        type='ApplyToEachImage',
        transforms=[dict(type='PhotoMetricDistortion')]),
    dict(type='ConcatCDInput'),
    # Geometric: after concatenation A, B and the label move together.
    dict(type='RandomRotFlip', rotate_prob=0.0, flip_prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    dict(type='ConcatCDInput'),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
# tools/test.py --tta: mean of the plain and the horizontally flipped pair.
tta_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='ConcatCDInput')],
                    [
                        dict(type='RandomFlip', prob=0.0,
                             direction='horizontal'),
                        dict(type='RandomFlip', prob=1.0,
                             direction='horizontal')
                    ], [dict(type='LoadChangeLabel')],
                    [dict(type='PackSegInputs', meta_keys=meta_keys)]])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        layout='levir',
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        layout='levir',
        split='val',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        layout='levir',
        split='test',
        pipeline=test_pipeline))
val_evaluator = dict(type='ChangeMetric')
test_evaluator = dict(
    type='ChangeMetric', thresholds=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
