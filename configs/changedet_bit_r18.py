# BIT (Chen et al., 2021) with a ResNet-18 V1c on LEVIR-CD 256x256 crops
# with open-cd's recipe: batch 8, 40k iterations, AdamW lr 1e-3 wd 0.05,
# linear warm-up then poly; two-class softmax cross entropy. Trained from
# scratch unless model.backbone.init_cfg names an ImageNet checkpoint.
#   python tools/train.py configs/changedet_bit_r18.py
_base_ = [
    './_base_/models/bit_r18.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
