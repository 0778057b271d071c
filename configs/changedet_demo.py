# CPU demo: the headline model on the synthetic LEVIR-layout dataset
# (tools/dataset_converters/make_synthetic_cd.py, 64x64 pairs). A few
# minutes on 2 CPU cores; run by tools/demo_changedet.sh.
_base_ = ['./changedet_unet.py']
# No dropout: it slows convergence more than it helps on 160 pairs.
model = dict(backbone=dict(dropout_ratio=0.0))
data_root = 'data/synthetic_cd'
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(
        type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=50,
        end=1500)
]
train_cfg = dict(max_iters=1500, val_interval=500)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=500, max_keep_ckpts=1))
# Fixed seed: the F1 in the README is reproducible (CPU).
randomness = dict(seed=0)
