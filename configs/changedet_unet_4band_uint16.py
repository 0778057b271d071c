# FC-EF (early fusion) change U-Net for 4-band uint16 imagery (e.g. R, G,
# B, NIR digital numbers), trained from GeoTIFF chips that
# tools/dataset_converters/scenes2chips.py cut from scene pairs:
#   python tools/dataset_converters/scenes2chips.py \
#       --scene A.tif B.tif changes.gpkg --out data/scene_chips
#   python tools/train.py configs/changedet_unet_4band_uint16.py
_base_ = [
    './_base_/models/change_unet.py', './_base_/datasets/scene_chips.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
# Per-band mean/std in digital numbers (the chips' units: nothing is
# rescaled on loading), band order. scenes2chips prints them for the train
# chips and writes <out>/band_stats.json; replace these with your data's.
# These are the ones printed for the synthetic 4-band uint16 scene (40 DN
# per level):
#   make_synthetic_scene.py --out S --size 2048 --bands 4 --dtype uint16
#   scenes2chips.py --scene S/scene_A.tif S/scene_B.tif S/scene_label.tif \
#       --out data/scene_chips --size 256
mean = [4127.091, 5619.54, 5796.962, 5520.525]
std = [1958.429, 2389.679, 2475.544, 2356.163]
data_preprocessor = dict(mean=mean, std=std, bgr_to_rgb=False)
# Each date gets its own radiometry in training (RandomRadiometric, on in
# _base_/datasets/scene_chips.py): trained on one scene pair without it,
# the model calls a new acquisition changed throughout. To normalise the
# dates' radiometry too, add before ConcatCDInput in train_pipeline and
# test_pipeline
#   dict(type='RadiometricNormalize', method='standardize', mean=mean,
#        std=std, stats_file='data/scene_chips/band_stats.json')
# and infer with tools/infer.py --radiometric standardize
# (docs/en/user_guides/radiometry.md).
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(in_channels=4, fusion='early'))
