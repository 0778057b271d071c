# GeoTIFF chips written by tools/dataset_converters/scenes2chips.py, in the
# LEVIR-CD layout: {train,val,test}/{A,B,label}/*.tif; any band count and
# dtype (read by rasterio, uint16 kept), labels 0/1 with nodata 255
# (ignored by the head and ChangeMetric).
# Augmentation is geometric only: mmseg's PhotoMetricDistortion clips to
# 0..255 and returns uint8 (a uint16 chip comes out as 0..255: tested), and
# its hue/saturation steps assume 3-channel BGR, so it is not used here.
dataset_type = 'BiTemporalChangeDataset'
data_root = 'data/scene_chips'
crop_size = (256, 256)
suffixes = dict(img_suffix='.tif', img_suffix2='.tif', seg_map_suffix='.tif')
meta_keys = ('img_path', 'img_path2', 'seg_map_path', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    dict(type='ConcatCDInput'),
    # After concatenation A, B and the label move together.
    # rotate_prob 0: mmseg's free rotation fills the corners with 0 in the
    # images (nodata) and in the label (unchanged, not ignored).
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
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
        **suffixes))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline,
        **suffixes))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline,
        **suffixes))
val_evaluator = dict(type='ChangeMetric')
test_evaluator = dict(
    type='ChangeMetric', thresholds=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
