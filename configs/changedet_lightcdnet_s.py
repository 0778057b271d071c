# LightCDNet-s (Xing et al., 2023) on LEVIR-CD 256x256 crops with open-cd's
# recipe: batch 8, 40k iterations, AdamW lr 3e-3 (wd 0.05), 1k-iteration
# warm-up then poly, OHEM on the decode head, open-cd's augmentation.
#   python tools/train.py configs/changedet_lightcdnet_s.py
_base_ = [
    './_base_/models/lightcdnet.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
model = dict(
    decode_head=dict(
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=100000)))
optim_wrapper = dict(optimizer=dict(lr=0.003))
