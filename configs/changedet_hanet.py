# HANet (Han et al., 2023) on LEVIR-CD 256x256 crops with open-cd's recipe:
# batch 8, 40k iterations, AdamW lr 1e-3 (wd 0.05), 1k-iteration warm-up
# then poly, open-cd's augmentation; tested by 256^2 slide windows.
#   python tools/train.py configs/changedet_hanet.py
_base_ = [
    './_base_/models/hanet.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
