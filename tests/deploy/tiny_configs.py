"""Every exported config family, shrunk with --cfg-options to test fast.

Widths are cut (U-Nets to 4 base channels and 3 stages, VGG16's fc6/fc7 to
64 channels, the deconv+BN decoder's last stages to 16-8-4); the layer types
and the graph's structure are the configs' own. ``sizes``: (H, W) of the two
image sizes tested (the U-Nets' preprocessors pad them to multiples of 4;
the FCN graphs need multiples of 32).
"""
import numpy as np
import torch
from mmseg.structures import SegDataSample

UNET = {'model.backbone.base_channels': 4, 'model.backbone.num_stages': 3}
UNET_SIZES = [(30, 44), (40, 20)]  # padded to multiples of 4
FCN_SIZES = [(64, 64), (64, 96)]
CHANGE_HEAD = {'model.decode_head.in_channels': 4}
SOFTMAX_HEAD = {'model.decode_head.in_channels': 4,
                'model.decode_head.channels': 4}
FINEST_MAP_HEAD = dict(SOFTMAX_HEAD, **{'model.decode_head.in_index': -1})
FC = {'model.backbone.fc_channels': 64}

# name: (config, cfg_options, export (H, W), sizes)
CONFIGS = {
    'fc_ef': ('configs/changedet_unet.py', dict(UNET, **CHANGE_HEAD),
              (32, 32), UNET_SIZES),
    'fc_siam_conc': ('configs/changedet_fc_siam_conc.py',
                     dict(UNET, **CHANGE_HEAD), (32, 32), UNET_SIZES),
    'fc_siam_diff': ('configs/changedet_fc_siam_diff.py',
                     dict(UNET, **CHANGE_HEAD), (32, 32), UNET_SIZES),
    'change_softmax': ('configs/changedet_unet_softmax.py',
                       dict(UNET, **SOFTMAX_HEAD), (32, 32), UNET_SIZES),
    'strided_unet': ('configs/unet_strided_demo.py',
                     dict(UNET, **FINEST_MAP_HEAD), (32, 32), UNET_SIZES),
    'fcn32s': ('configs/fcn32s_vgg16_voc12.py',
               dict(FC, **{'model.decode_head.in_channels': [64],
                           'model.decode_head.channels': 64}),
               (64, 64), FCN_SIZES),
    'fcn16s': ('configs/fcn16s_vgg16_voc12.py',
               dict(FC, **{'model.decode_head.in_channels': [512, 64],
                           'model.decode_head.channels': 64}),
               (64, 64), FCN_SIZES),
    'fcn8s': ('configs/fcn8s_vgg16_voc12.py',
              dict(FC, **{'model.decode_head.in_channels': [256, 512, 64],
                          'model.decode_head.channels': 64}),
              (64, 64), FCN_SIZES),
    'fcn8s_deconv_bn': ('configs/fcn8s_deconv_bn_vgg16_voc12.py',
                        {'model.decode_head.decoder_channels':
                         (512, 256, 16, 8, 4),
                         'model.decode_head.channels': 4},
                        (64, 64), FCN_SIZES),
}


def balance_change_head(model, pairs, changed: float = 0.3) -> None:
    """Shift a one-logit head's bias so that a ``changed`` fraction of the
    pixels of ``pairs`` ((H, W, 6) uint8 arrays) is predicted 'changed'
    (random weights predict one class everywhere)."""
    outs = model.test_step(dict(
        inputs=[torch.from_numpy(np.ascontiguousarray(p.transpose(2, 0, 1)))
                for p in pairs],
        data_samples=[SegDataSample(metainfo=dict(
            img_shape=p.shape[:2], ori_shape=p.shape[:2])) for p in pairs]))
    probs = torch.cat([o.seg_logits.data.flatten() for o in outs]).double()
    with torch.no_grad():
        model.decode_head.conv_seg.bias -= torch.logit(
            probs.quantile(1 - changed), eps=1e-6).float()
