# SECOND (Yang et al., 2021) as distributed: data/second/{train,test}/
# {im1,im2,label1,label2}/*.png, 512x512, labels in SECOND's RGB colours.
# Loaders and samplers as LEVIR-CD's.
_base_ = ['./levir_cd.py']
dataset_type = 'SECONDDataset'
data_root = 'data/second'
crop_size = (512, 512)
meta_keys = ('img_path', 'img_path2', 'seg_map_path', 'seg_map_path2',
             'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')
train_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadSCDLabels'),
    dict(
        type='ApplyToEachImage',
        transforms=[dict(type='PhotoMetricDistortion')]),
    dict(type='ConcatCDInput'),
    # After concatenation both images and the three label maps move
    # together (they are all in seg_fields).
    dict(type='RandomRotFlip', rotate_prob=0.0, flip_prob=0.5),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSCDInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(type='LoadSCDLabels'),
    dict(type='ConcatCDInput'),
    dict(type='PackSCDInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline))
val_dataloader = test_dataloader
val_evaluator = dict(type='SCDMetric', _delete_=True)
test_evaluator = val_evaluator
# tools/test.py --tta (with SCDTTAModel): mean of the plain and the
# horizontally flipped pair; the labels are loaded unflipped.
tta_pipeline = [
    dict(type='LoadImagePairFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='ConcatCDInput')],
                    [dict(type='RandomFlip', prob=p, direction='horizontal')
                     for p in (0.0, 1.0)],
                    [dict(type='LoadSCDLabels')],
                    [dict(type='PackSCDInputs', meta_keys=meta_keys)]])
]
