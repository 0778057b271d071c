# FC-Siam-diff: shared-weight encoder per date, skips are |f_A - f_B|.
_base_ = ['./changedet_unet.py']
model = dict(backbone=dict(fusion='siam_diff'))
