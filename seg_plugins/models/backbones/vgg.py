from collections import OrderedDict
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from mmseg.registry import MODELS
from torchvision.models import vgg16

# Indices of the five max-pool layers in torchvision's ``vgg16().features``.
VGG16_POOL_INDICES = (4, 9, 16, 23, 30)
VGG16_STAGE_CHANNELS = (64, 128, 256, 512, 512)


def convert_torchvision_vgg16(state_dict: Dict[str, torch.Tensor],
                              with_fc: bool) -> Dict[str, torch.Tensor]:
    """Map a torchvision ``vgg16`` state dict onto :class:`VGG16` keys.

    ``features.*`` keep their names (the backbone holds torchvision's
    ``features`` module). The first two fully connected layers become the
    paper's convolutions: ``classifier.0`` (4096, 512*7*7) -> ``fc6``
    (4096, 512, 7, 7) and ``classifier.3`` (4096, 4096) -> ``fc7``
    (4096, 4096, 1, 1). The 1000-class ``classifier.6`` is dropped. Keys
    already in backbone form (e.g. from our own checkpoints) pass unchanged.

    Args:
        state_dict (dict[str, Tensor]): torchvision or backbone weights.
        with_fc (bool): Whether the target backbone has fc6/fc7.

    Returns:
        OrderedDict[str, Tensor]: Weights with :class:`VGG16` key names.
    """
    fc_map = {'classifier.0': 'fc6', 'classifier.3': 'fc7'}
    converted = OrderedDict()
    for key, value in state_dict.items():
        prefix, _, param = key.rpartition('.')
        if prefix in fc_map:
            if not with_fc:
                continue
            if param == 'weight' and value.dim() == 2:
                # fc6 flattens pool5 as (C, 7, 7); fc7 is a 1x1 conv.
                ksize = 7 if prefix == 'classifier.0' else 1
                value = value.reshape(value.shape[0], -1, ksize, ksize)
            converted[f'{fc_map[prefix]}.{param}'] = value
        elif key.startswith('classifier.'):
            continue
        else:
            converted[key] = value
    return converted


@MODELS.register_module()
class VGG16(BaseModule):
    """VGG16 (Simonyan & Zisserman 2015) as an FCN backbone.

    Wraps torchvision's ``vgg16().features`` (13 convs, 5 max-pools, no BN),
    so torchvision's ImageNet weights load with their own key names, and
    optionally adds the paper's ``fc6``/``fc7`` as convolutions (Long et al.
    2015, "convolutionalization"): conv6 7x7 -> ``fc_channels`` and conv7
    1x1 -> ``fc_channels``, each with ReLU and dropout.

    Pre-trained weights: ``init_cfg=dict(type='Pretrained',
    checkpoint='torchvision://vgg16')`` (mmengine downloads torchvision's
    ``VGG16_Weights.IMAGENET1K_V1``) or a local path to a saved
    ``torchvision.models.vgg16().state_dict()``; the keys are mapped by
    :func:`convert_torchvision_vgg16`. torchvision's weights expect RGB input
    normalised with the ImageNet mean and std.

    Args:
        out_indices (Sequence[int]): Stages to return, 0-4 for the outputs of
            pool1 (1/2) ... pool5 (1/32). With ``with_fc`` stage 4 returns
            fc7 (1/32) instead of pool5. Default: (2, 3, 4), i.e. pool3,
            pool4 and pool5/fc7 as FCN-8s uses them.
        with_fc (bool): Add conv6/conv7 as in the paper. Default: False (the
            plain pool5 of the FCN/VOC tutorial's deconv+BN FCN8s).
        fc_channels (int): Channels of conv6/conv7. Default: 4096.
        fc6_padding (int): Padding of the 7x7 conv6. The paper uses 0 and
            pads the input by 100 pixels instead; 3 keeps the 1/32 map at the
            size of pool5, so no input padding or crop offsets are needed.
            Default: 3.
        dropout_ratio (float): Dropout after conv6 and conv7. Default: 0.5.
        init_cfg (dict, optional): ``Pretrained`` with a torchvision or
            backbone checkpoint, or any mmengine init config.
    """

    def __init__(self,
                 out_indices: Sequence[int] = (2, 3, 4),
                 with_fc: bool = False,
                 fc_channels: int = 4096,
                 fc6_padding: int = 3,
                 dropout_ratio: float = 0.5,
                 init_cfg=None):
        super().__init__(init_cfg)
        out_indices = tuple(out_indices)
        assert out_indices and all(0 <= i <= 4 for i in out_indices), (
            f'out_indices must be stages in 0..4, got {out_indices}')
        assert list(out_indices) == sorted(set(out_indices)), (
            f'out_indices must be increasing and unique, got {out_indices}')
        self.out_indices = out_indices
        self.with_fc = with_fc
        self.features = vgg16(weights=None).features
        if with_fc:
            self.fc6 = nn.Conv2d(512, fc_channels, 7, padding=fc6_padding)
            self.fc7 = nn.Conv2d(fc_channels, fc_channels, 1)
            self.fc_act = nn.ReLU(inplace=True)
            self.fc_drop = nn.Dropout(dropout_ratio)
        # Channels of each returned map, for configs and heads.
        self.out_channels = [
            fc_channels if (i == 4 and with_fc) else VGG16_STAGE_CHANNELS[i]
            for i in out_indices
        ]

    def init_weights(self) -> None:
        """Load ``init_cfg.checkpoint`` through the torchvision key mapping;
        any other ``init_cfg`` is handled by mmengine as usual."""
        if self.init_cfg is None or self.init_cfg.get('type') != 'Pretrained':
            super().init_weights()
            return
        assert 'checkpoint' in self.init_cfg, (
            f'Pretrained init_cfg of {type(self).__name__} needs a '
            f'"checkpoint", got {self.init_cfg}')
        ckpt = CheckpointLoader.load_checkpoint(
            self.init_cfg['checkpoint'], map_location='cpu', logger='current')
        state = ckpt.get('state_dict', ckpt)
        # A whole-segmentor checkpoint: keep its backbone part.
        if any(k.startswith('backbone.') for k in state):
            state = {
                k[len('backbone.'):]: v
                for k, v in state.items() if k.startswith('backbone.')
            }
        state = convert_torchvision_vgg16(state, self.with_fc)
        print_log(
            f'{type(self).__name__}: loading {len(state)} tensors from '
            f'{self.init_cfg["checkpoint"]}', logger='current')
        load_state_dict(self, state, strict=False, logger='current')
        self._is_init = True

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, 3, H, W).

        Returns:
            list[Tensor]: one map per ``out_indices`` entry; stage ``i`` has
            shape (N, C_i, H_i, W_i) with ``H_i = floor(H / 2**(i + 1))``
            (pools round down) and ``C_i`` in ``self.out_channels``.
        """
        # Without this, a too small input fails deep inside max_pool2d.
        min_size = 2**(self.out_indices[-1] + 1)
        if min(x.shape[-2:]) < min_size:
            raise ValueError(
                f'{type(self).__name__} with out_indices={self.out_indices} '
                f'needs inputs of at least {min_size}x{min_size} pixels, got '
                f'{tuple(x.shape[-2:])}; pad small images, e.g. with '
                f'model.data_preprocessor.test_cfg=dict(size_divisor=32) '
                f'(test) or a Pad transform (training)')
        outs = []
        start = 0
        for stage, end in enumerate(VGG16_POOL_INDICES):
            x = self.features[start:end + 1](x)
            start = end + 1
            if stage == 4 and self.with_fc:
                x = self.fc_drop(self.fc_act(self.fc6(x)))
                x = self.fc_drop(self.fc_act(self.fc7(x)))
            if stage in self.out_indices:
                outs.append(x)
            if stage == self.out_indices[-1]:
                break
        return outs
