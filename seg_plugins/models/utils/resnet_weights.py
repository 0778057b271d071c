"""ImageNet ResNet checkpoints of other libraries, loaded into mmseg's
``ResNetV1c``.

Key layouts understood (after stripping a ``state_dict`` / ``model`` wrapper
and ``module.`` / ``backbone.`` prefixes):

- ``mmseg``: mmseg's own layout (``stem.0.weight``, ``layer1.0.bn1.*``),
  e.g. OpenMMLab's ``resnet18_v1c``; loaded as it is.
- ``mmpretrain``: its ResNetV1c/V1d, a deep stem of ConvModules
  (``stem.0.conv.weight``, ``stem.0.bn.*``); V1d's shortcut is
  (AvgPool, conv, norm).
- ``timm-deep``: timm's ``resnet18d`` (``conv1.0/3/6`` convs,
  ``conv1.1/4`` and ``bn1`` norms; (AvgPool, conv, norm) shortcuts).
- ``torchvision``: a 7x7 ``conv1`` and ``bn1``: torchvision's and timm's
  ``resnet18``, mmpretrain's plain ``ResNet``.

A 7x7 stem cannot become ResNetV1c's three 3x3 convs: those keys are
reported and the stem keeps its initialisation. ResNet-D's shortcut conv
(stride 1 after a 2x2 average pool) is loaded into V1c's strided 1x1 conv:
the same weights, sampling one pixel of four instead of their mean. The
classifier (``fc.*``, ``head.*``) is dropped. What remains unmatched is
reported key by key through mmengine's logger.
"""
import re
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict

StateDict = Dict[str, torch.Tensor]

# Deep stems, source key prefix -> mmseg's.
_MMPRETRAIN_STEM = {f'stem.{i}.conv.': f'stem.{3 * i}.' for i in range(3)}
_MMPRETRAIN_STEM.update(
    {f'stem.{i}.bn.': f'stem.{3 * i + 1}.' for i in range(3)})
_TIMM_STEM = {'conv1.0.': 'stem.0.', 'conv1.1.': 'stem.1.',
              'conv1.3.': 'stem.3.', 'conv1.4.': 'stem.4.',
              'conv1.6.': 'stem.6.', 'bn1.': 'stem.7.'}
_CLASSIFIER = re.compile(r'^(fc|head|classifier)\.')
_AVG_DOWN = re.compile(r'^(layer\d+\.\d+\.downsample\.)([12])\.')


def unwrap(checkpoint) -> StateDict:
    """The tensors of a checkpoint, wrappers and prefixes removed.

    Args:
        checkpoint (dict): a state dict, or a dict holding one under
            ``state_dict`` or ``model`` (mmengine, mmpretrain, timm
            training checkpoints).
    """
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    out = {}
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            continue
        key = re.sub(r'^module\.', '', key)
        if key.startswith('backbone.'):
            key = key[len('backbone.'):]
        elif key.startswith(('neck.', 'decode_head.', 'auxiliary_head.')):
            key = 'head.' + key  # another model's head: dropped with fc
        out[key] = value
    return out


def detect_layout(state_dict: StateDict) -> str:
    """'mmseg', 'mmpretrain', 'timm-deep' or 'torchvision' (see the module
    docstring), from the stem's keys."""
    if 'stem.0.weight' in state_dict:
        return 'mmseg'
    if 'stem.0.conv.weight' in state_dict:
        return 'mmpretrain'
    if 'conv1.0.weight' in state_dict:
        return 'timm-deep'
    if 'conv1.weight' in state_dict:
        return 'torchvision'
    raise ValueError(
        'not a ResNet checkpoint: no stem (stem.0.weight, stem.0.conv.weight, '
        f'conv1.0.weight or conv1.weight) among {len(state_dict)} keys, e.g. '
        f'{sorted(state_dict)[:5]}')


def to_resnet_v1c(state_dict: StateDict) -> Tuple[StateDict, str, List[str]]:
    """Rename a ResNet state dict's keys to mmseg's ``ResNetV1c``.

    Args:
        state_dict (dict[str, Tensor]): from :func:`unwrap`.

    Returns:
        tuple: the renamed state dict; the layout detected; the source keys
        that were dropped because they have no place in ResNetV1c (a 7x7
        stem, the classifier).
    """
    layout = detect_layout(state_dict)
    stem = {'mmpretrain': _MMPRETRAIN_STEM, 'timm-deep': _TIMM_STEM}.get(
        layout, {})
    out, dropped = {}, []
    for key, value in state_dict.items():
        if _CLASSIFIER.match(key) or (
                layout == 'torchvision' and re.match(r'^(conv1|bn1)\.', key)):
            dropped.append(key)
            continue
        for src, dst in stem.items():
            if key.startswith(src):
                key = dst + key[len(src):]
                break
        # (AvgPool, conv, norm) shortcut -> (conv, norm).
        if layout != 'mmseg' and _has_avg_down(state_dict):
            key = _AVG_DOWN.sub(
                lambda m: f'{m.group(1)}{int(m.group(2)) - 1}.', key)
        out[key] = value
    return out, layout, dropped


def _has_avg_down(state_dict: StateDict) -> bool:
    return any(re.match(r'^layer\d+\.\d+\.downsample\.2\.', k)
               for k in state_dict)


def load_resnet_checkpoint(module: torch.nn.Module, filename: str,
                           map_location: str = 'cpu',
                           logger='current') -> Tuple[str, List[str]]:
    """Load an ImageNet ResNet checkpoint of any layout above into
    ``module`` (an mmseg ``ResNetV1c`` or a subclass).

    Shapes that disagree (e.g. ``stem.0.weight`` for a 4-band
    ``in_channels``) and keys that match nothing are reported by name, as
    mmengine reports them, and left at their initialisation.

    Args:
        module (nn.Module): the ResNet.
        filename (str): a path or any URL mmengine's ``CheckpointLoader``
            reads.
        map_location (str): where to load the tensors.
        logger: mmengine logger (name, instance or 'current').

    Returns:
        tuple: the layout detected and the keys dropped (7x7 stem,
        classifier).
    """
    checkpoint = CheckpointLoader.load_checkpoint(
        filename, map_location=map_location)
    state_dict, layout, dropped = to_resnet_v1c(unwrap(checkpoint))
    print_log(f'{filename}: a {layout} ResNet checkpoint, loaded into '
              f'{type(module).__name__}', logger=logger)
    stem = [k for k in dropped if not _CLASSIFIER.match(k)]
    if stem:
        print_log(
            f'{filename}: its 7x7 stem cannot map to ResNetV1c\'s three 3x3 '
            f'convs; the stem keeps its initialisation. Not loaded: '
            f'{", ".join(stem)} (a deep-stem checkpoint such as timm '
            "resnet18d or OpenMMLab's resnet18_v1c loads the stem too)",
            logger=logger, level=30)
    own = module.state_dict()
    mismatched = [k for k, v in state_dict.items()
                  if k in own and own[k].shape != v.shape]
    for key in mismatched:
        print_log(
            f'{filename}: {key} has shape {tuple(state_dict[key].shape)}, the '
            f'model {tuple(own[key].shape)}: not loaded (e.g. in_channels '
            'differs from the 3 bands the checkpoint was trained on)',
            logger=logger, level=30)
        del state_dict[key]
    # mmengine's own report of missing and unexpected keys, by name.
    load_state_dict(module, state_dict, strict=False, logger=logger)
    return layout, dropped
