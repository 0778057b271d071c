# VOC 2012 train + SBD ("aug"), as mmseg's pascal_voc12_aug.py builds it.
# Convert SBD with mmsegmentation's tools/dataset_converters/voc_aug.py
# (installed as mmseg/.mim/tools/dataset_converters/voc_aug.py):
#   python voc_aug.py data/VOCdevkit data/VOCdevkit/VOCaug --nproc 8
# It writes VOC2012/SegmentationClassAug/ and ImageSets/Segmentation/aug.txt
# (SBD train + val without the VOC 2012 val images).
_base_ = ['./voc12.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                ann_file='ImageSets/Segmentation/train.txt',
                pipeline={{_base_.train_pipeline}}),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                data_prefix=dict(
                    img_path='JPEGImages',
                    seg_map_path='SegmentationClassAug'),
                ann_file='ImageSets/Segmentation/aug.txt',
                pipeline={{_base_.train_pipeline}})
        ]))
