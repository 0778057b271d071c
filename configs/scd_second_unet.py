# Semantic change detection on SECOND with the siamese strided U-Net, one
# GPU, 40k iterations of 8 pairs; best checkpoint by SeK.
#   python tools/train.py configs/scd_second_unet.py
_base_ = [
    './_base_/models/scd_unet.py', './_base_/datasets/second.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
default_hooks = dict(checkpoint=dict(save_best='SeK'))
# tools/test.py --tta: per-date class and change probabilities averaged
# over the views (the binary models' BinarySegTTAModel is not for SCD).
tta_model = dict(type='SCDTTAModel')
