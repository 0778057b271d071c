# TinyCDv2-B on LEVIR-CD 256x256 crops with open-cd's recipe: batch 8, 40k
# iterations, AdamW lr 3e-3 (TinyCDv2's own) wd 0.05, linear warm-up then
# poly; two-class softmax cross entropy. open-cd's TinyCDv2 configs set
# their own training pipeline in the old `data=dict(train=...)` form, which
# mmengine ignores: open-cd trains it with the standard pipeline, as here.
#   python tools/train.py configs/changedet_tinycdv2_b.py
_base_ = [
    './_base_/models/tinycdv2.py', './_base_/datasets/levir_cd_opencd.py',
    './_base_/schedules/cd_adamw_40k.py', './_base_/cd_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=3e-3))
