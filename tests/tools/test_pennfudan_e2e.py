"""PennFudan end to end through tools/train.py and tools/test.py on CPU.

The configs under test inherit the repository's configs and only shrink the
model and the images: ResNet-18 (no pretrained weights) with a narrow
FPN/RoI head for Mask R-CNN, an 8-channel U-Net for the semantic variant.
"""
import pickle
import re

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from tests.conftest import REPO, run_tool
from tests.pennfudan_fixture import write_pennfudan

SMALL_MASK_RCNN = '''
_base_ = [{base!r}]
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32),
        bbox_head=dict(in_channels=32, fc_out_channels=64),
        mask_roi_extractor=dict(out_channels=32),
        mask_head=dict(in_channels=32, conv_out_channels=32, num_convs=2)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=200, max_per_img=50),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=50)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'instances'))
]
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    dataset=dict(data_root={root!r}, test_size=3, pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    dataset=dict(data_root={root!r}, test_size=3, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
default_hooks = dict(logger=dict(interval=1))
'''

SMALL_UNET = '''
_base_ = [{base!r}]
model = dict(
    backbone=dict(base_channels=8),
    decode_head=dict(in_channels=8, channels=8))
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(data_root={root!r}, test_size=3))
val_dataloader = dict(
    **loader, dataset=dict(data_root={root!r}, test_size=3))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4, val_interval=4)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=4))
'''


@pytest.fixture(scope='module')
def pf_root(tmp_path_factory):
    return write_pennfudan(tmp_path_factory.mktemp('PennFudanPed'))


def test_r50_config_is_the_recipe_and_computes_losses(pf_root):
    """The unshrunk config: the tutorial's recipe, 1-class heads, and one
    forward pass (losses) on the fixture through its own pipeline."""
    cfg = Config.fromfile(REPO / 'configs/maskrcnn_r50_fpn_pennfudan.py')
    assert cfg.default_scope == 'mmdet'
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0005)
    step = cfg.param_scheduler[-1]
    assert (step.type, step.step_size, step.gamma) == ('StepLR', 3, 0.1)
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.train_dataloader.batch_size == 2
    for loader, split in ((cfg.train_dataloader, 'train'),
                          (cfg.val_dataloader, 'test')):
        assert loader.dataset.type == 'PennFudanDataset'
        assert (loader.dataset.split, loader.dataset.test_size) == (split,
                                                                    50)
    assert cfg.val_evaluator.type == 'CocoMetric'
    assert cfg.val_evaluator.ann_file is None
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    assert cfg.model.roi_head.mask_head.num_classes == 1

    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(
            dict(cfg.train_dataloader.dataset, data_root=str(pf_root),
                 test_size=3))
        model = MODELS.build(cfg.model)  # weights not initialised: no
        # download; the layers are what load_from fills.
    batch = pseudo_collate([dataset[0]])
    model.train()
    with torch.no_grad():
        data = model.data_preprocessor(batch, training=True)
        losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'} <= set(
        losses)
    for key, value in losses.items():
        if key.startswith('loss'):
            values = value if isinstance(value, list) else [value]
            assert all(torch.isfinite(v).all() for v in values), (key, value)


def metrics_of(out):
    match = re.search(r'^metrics: (.*)$', out, re.M)
    assert match, out[-3000:]
    return dict(kv.split('=', 1) for kv in match.group(1).split(', '))


def small_mask_rcnn_config(tmp_path, pf_root, epochs):
    """The repository's Mask R-CNN config, shrunk for the CPU (a file)."""
    config = tmp_path / 'maskrcnn_small_pennfudan.py'
    config.write_text(
        SMALL_MASK_RCNN.format(
            base=str(REPO / 'configs/maskrcnn_r50_fpn_pennfudan.py'),
            root=str(pf_root),
            epochs=epochs))
    return config


def test_mask_rcnn_trains_and_evaluates_coco(pf_root, tmp_path):
    config = small_mask_rcnn_config(tmp_path, pf_root, epochs=2)
    work = tmp_path / 'work'
    out = run_tool('tools/train.py', config, '--work-dir', work)
    # 5 train images minus the one without pedestrians, batch 2.
    assert 'Epoch(train) [2][2/2]' in out, out[-3000:]
    assert re.search(r'coco/bbox_mAP: -?[0-9.]+', out), out[-3000:]
    assert re.search(r'coco/segm_mAP: -?[0-9.]+', out), out[-3000:]
    assert (work / 'epoch_2.pth').is_file()

    pkl = tmp_path / 'preds.pkl'
    show = tmp_path / 'show'
    out = run_tool('tools/test.py', config, work / 'epoch_2.pth',
                   '--work-dir', tmp_path / 'test', '--out', pkl,
                   '--show-dir', show)
    metrics = metrics_of(out)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75',
                'coco/bbox_mAP_s', 'coco/bbox_mAP_m', 'coco/bbox_mAP_l',
                'coco/segm_mAP', 'coco/segm_mAP_50', 'coco/segm_mAP_75'):
        assert key in metrics, metrics
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert 0.0 <= float(metrics[key]) <= 1.0, metrics
    # pycocotools' summary table is printed for both iou types.
    assert out.count('Average Precision  (AP) @[ IoU=0.50:0.95 | area=   '
                     'all') == 2, out[-3000:]
    with open(pkl, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 3
    assert {'bboxes', 'scores', 'labels', 'masks'} <= set(
        results[0]['pred_instances'])
    assert len(list(show.rglob('*.png'))) == 3


def test_semantic_variant_trains_and_evaluates(pf_root, tmp_path):
    config = tmp_path / 'unet_small_pennfudan.py'
    config.write_text(
        SMALL_UNET.format(
            base=str(REPO / 'configs/unet_strided_pennfudan.py'),
            root=str(pf_root)))
    work = tmp_path / 'work'
    out = run_tool('tools/train.py', config, '--work-dir', work)
    assert re.search(r'mIoU: [0-9.]+', out), out[-3000:]
    for flags in ([], ['--tta']):  # --tta: plain and flipped
        out = run_tool('tools/test.py', config, work / 'iter_4.pth', *flags,
                       '--work-dir', tmp_path / f'test{len(flags)}')
        metrics = metrics_of(out)
        assert 0.0 <= float(metrics['mIoU']) <= 100.0
        assert re.search(r'\|\s*person\s*\|', out), out[-3000:]


def test_fine_tunes_from_an_80_class_coco_checkpoint(pf_root, tmp_path):
    """``load_from`` a COCO Mask R-CNN (80 classes, written here as mmdet
    writes them): the class-specific layers are skipped with a warning,
    the rest is loaded, and the frozen stem keeps the loaded weights."""
    config = small_mask_rcnn_config(tmp_path, pf_root, epochs=1)
    cfg = Config.fromfile(config)
    cfg.model.roi_head.bbox_head.num_classes = 80
    cfg.model.roi_head.mask_head.num_classes = 80
    with DefaultScope.overwrite_default_scope('mmdet'):
        coco = MODELS.build(cfg.model)
    coco.init_weights()
    ckpt = tmp_path / 'mask_rcnn_coco.pth'
    torch.save({'meta': {'mmdet_version': '3.3.0', 'epoch': 12,
                         'CLASSES': tuple(f'c{i}' for i in range(80))},
                'state_dict': coco.state_dict()}, ckpt)

    work = tmp_path / 'work'
    out = run_tool('tools/train.py', config, '--work-dir', work,
                   '--cfg-options', f'load_from={ckpt}')
    assert f'Load checkpoint from {ckpt}' in out, out[-3000:]
    # 80 + 1 scores, 80 x 4 boxes and 80 masks do not fit the 1-class heads.
    for key in ('roi_head.bbox_head.fc_cls.weight',
                'roi_head.bbox_head.fc_reg.weight',
                'roi_head.mask_head.conv_logits.weight'):
        assert re.search(rf'size mismatch for {re.escape(key)}', out), key
    tuned = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    # mmdet's ResNet keeps the stem and stage 1 frozen (frozen_stages=1).
    assert torch.equal(tuned['backbone.conv1.weight'],
                       coco.state_dict()['backbone.conv1.weight'])
    assert tuned['roi_head.bbox_head.fc_cls.weight'].shape[0] == 2
