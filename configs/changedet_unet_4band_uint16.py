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
# These are those of the synthetic 4-band uint16 scene
# (make_synthetic_scene.py --bands 4 --dtype uint16, 40 DN per level).
mean = [4743.5, 4742.1, 4737.2, 4745.6]
std = [2103.4, 2102.2, 2098.9, 2104.5]
data_preprocessor = dict(mean=mean, std=std, bgr_to_rgb=False)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(in_channels=4, fusion='early'))
