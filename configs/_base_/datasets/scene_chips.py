# GeoTIFF chips written by tools/dataset_converters/scenes2chips.py, in the
# LEVIR-CD layout: {train,val,test}/{A,B,label}/*.tif; any band count and
# dtype (read by rasterio, uint16 kept), labels 0/1 with nodata 255
# (ignored by the head and ChangeMetric). Everything else as levir_cd.py.
_base_ = ['./levir_cd.py']
data_root = 'data/scene_chips'
suffixes = dict(img_suffix='.tif', img_suffix2='.tif', seg_map_suffix='.tif')
# Geometric augmentation only: mmseg's PhotoMetricDistortion clips to
# 0..255 and returns uint8 (a uint16 chip comes out as 0..255: tested), and
# its hue/saturation steps assume 3-channel BGR.
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    dict(type='ConcatCDInput'),
    # rotate_prob 0: mmseg's free rotation fills the corners with 0 in the
    # images (nodata) and in the label (unchanged, not ignored).
    dict(type='RandomRotFlip', rotate_prob=0.0, flip_prob=0.5),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline, **suffixes))
val_dataloader = dict(dataset=dict(data_root=data_root, **suffixes))
test_dataloader = dict(dataset=dict(data_root=data_root, **suffixes))
