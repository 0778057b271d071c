# FC-Siam-conc: shared-weight encoder per date, skips concatenated.
_base_ = ['./changedet_unet.py']
model = dict(backbone=dict(fusion='siam_concat'))
