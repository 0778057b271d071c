# FC-EF (early fusion) U-Net on LEVIR-CD 256x256 crops, 40k iterations,
# AdamW; best checkpoint by change F1.
#   python tools/train.py configs/changedet_unet.py
_base_ = [
    './_base_/models/change_unet.py', './_base_/datasets/levir_cd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
model = dict(backbone=dict(fusion='early'))
