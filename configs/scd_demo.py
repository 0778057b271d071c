# CPU demo: the siamese U-Net on the synthetic SECOND-layout set
# (tools/dataset_converters/make_synthetic_scd.py, 64x64 pairs).
#   python tools/dataset_converters/make_synthetic_scd.py data/synthetic_scd
#   python tools/train.py configs/scd_demo.py
_base_ = ['./scd_second_unet.py']
data_root = 'data/synthetic_scd'
train_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
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
randomness = dict(seed=0)
