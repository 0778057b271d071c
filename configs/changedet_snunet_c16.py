# SNUNet-CD/16 with ECAM (Fang et al., 2022) on LEVIR-CD 256x256 crops with
# open-cd's recipe: batch 8, 40k iterations, AdamW lr 1e-3 wd 0.05, linear
# warm-up then poly; two-class softmax cross entropy.
#   python tools/train.py configs/changedet_snunet_c16.py
_base_ = [
    './_base_/models/snunet.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
