# GeoTIFF chips written by tools/dataset_converters/scenes2chips.py, in the
# LEVIR-CD layout: {train,val,test}/{A,B,label}/*.tif; any band count and
# dtype (read by rasterio, uint16 kept), labels 0/1 with nodata 255
# (ignored by the head and ChangeMetric). Everything else as levir_cd.py.
_base_ = ['./levir_cd.py']
data_root = 'data/scene_chips'
suffixes = dict(img_suffix='.tif', img_suffix2='.tif', seg_map_suffix='.tif')
# Photometric: mmseg's PhotoMetricDistortion clips to 0..255 and returns
# uint8 (a uint16 chip comes out as 0..255: tested), and its hue/saturation
# steps assume 3-channel BGR. RandomRadiometric gives each date its own
# per-band gain, bias, gamma and noise in the data's units, dtype kept:
# without it a model trained on one scene pair learns that pair's
# radiometry and calls a new acquisition changed throughout. Its default
# ranges (gain 0.75-1.25, bias +-15 % of the band mean) cover the
# between-date differences of a Sentinel-2 pair and the range that
# tools/analysis/benchmark_radiometry.py holds out (see the transform's
# docstring and docs/en/user_guides/radiometry.md).
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadChangeLabel'),
    dict(type='RandomRadiometric'),
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
