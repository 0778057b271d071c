"""What an exported graph expects and returns, stored in its ONNX metadata.

The graph takes the *normalised* input, so a consumer must redo the data
preprocessor's work outside it. Everything needed for that is written into
``metadata_props`` (string keys and JSON values) and read back here; the
ONNX Runtime backend checks it against the config it is given.
"""
import json
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

# Prefix of every key written, so other tools' metadata cannot collide.
PREFIX = 'seg_plugins.'

INPUT_DOC = (
    'float32 (N, num_images * channels, H, W). Per image, in the loader '
    'order (BGR for colour images read by mmcv): reverse the channels if '
    'bgr_to_rgb, then (x - mean) / std per channel (mean/std list every '
    'channel of every image, dates in order); stack the images on the '
    'channel axis. Pad H and W at the bottom/right with pad_value (after '
    'normalisation) to multiples of size_divisor, at least min_size.')
OUTPUT_DOC = {
    'sigmoid': 'float32 (N, 1, H, W): probability of the positive class '
               '(change); positive where > threshold.',
    'softmax': 'float32 (N, num_classes, H, W): class probabilities; the '
               'prediction is their argmax.',
    'scd': 'float32 (N, 2 * num_classes - 1, H, W): date A class '
           'probabilities (softmax over the num_classes - 1 classes after '
           'no change), date B class probabilities, then the change '
           'probability (sigmoid). Changed where > threshold; there the '
           'from/to class is 1 + the argmax of each date, elsewhere 0.',
}


def output_activation(model) -> str:
    """What the graph of ``model`` returns: 'sigmoid' (one change
    channel), 'scd' (a semantic change model, see ``OUTPUT_DOC``) or
    'softmax'."""
    if getattr(model, 'num_scd_classes', None):
        return 'scd'
    return 'sigmoid' if model.decode_head.out_channels == 1 else 'softmax'


def graph_size_divisor(model) -> int:
    """Multiple of which H and W must be for the network to run (and for a
    dynamic graph to stay valid at other sizes).

    The U-Nets downsample ``num_stages - 1`` times; VGG16 pools to 1/32 and
    the FCN heads' crop/pad decision is traced at the export size, so other
    sizes are only valid when they round the same way (multiples of 32).
    """
    backbone = model.backbone
    if hasattr(backbone, 'num_stages'):
        return 2**(backbone.num_stages - 1)
    if hasattr(backbone, 'out_indices') and type(backbone).__name__ == \
            'VGG16':
        return 2**(max(backbone.out_indices) + 1)
    test_cfg = model.data_preprocessor.test_cfg or {}
    return int(test_cfg.get('size_divisor') or 1)


def graph_min_size(model) -> int:
    """Smallest H and W the network takes (reflect padding of the deepest
    U-Net map needs 2 pixels)."""
    backbone = model.backbone
    div = graph_size_divisor(model)
    if getattr(backbone, 'padding_mode', None) == 'reflect':
        return 2 * div
    return div


def preprocessing(cfg: Config) -> dict:
    """Input convention of ``cfg``'s data preprocessor.

    Returns:
        dict: ``num_images``, ``channels`` (per image), ``mean`` and ``std``
        (num_images * channels values), ``bgr_to_rgb`` and ``pad_value``.
    """
    pre = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
    if pre is None:
        raise ValueError(f'{cfg.filename}: model.data_preprocessor is '
                         'missing; the export needs its mean/std')
    num_images = int(pre.get('num_images', 1))
    mean, std = pre.get('mean'), pre.get('std')
    if mean is None or std is None:
        raise ValueError(f'{cfg.filename}: the data preprocessor has no '
                         'mean/std to record')
    mean, std = (_flat(v, num_images) for v in (mean, std))
    bgr = bool(pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False))
    return dict(num_images=num_images, channels=len(mean) // num_images,
                mean=mean, std=std, bgr_to_rgb=bgr,
                pad_value=float(pre.get('pad_val', 0)))


def _flat(values, num_images: int) -> List[float]:
    """C values shared by every image, or one list per image -> T*C."""
    if isinstance(values[0], (list, tuple)):
        return [float(x) for v in values for x in v]
    return [float(x) for x in values] * num_images


def build_metadata(cfg: Config, model, dynamic: bool, shape,
                   classes: Sequence[str] = ()) -> Dict[str, str]:
    """Metadata of the graph exported from ``model`` (built from ``cfg``).

    Args:
        classes (Sequence[str]): Class names (the checkpoint's
            ``dataset_meta``), if known.

    Returns:
        dict[str, str]: ONNX ``metadata_props``, values JSON-encoded.
    """
    head = model.decode_head
    activation = output_activation(model)
    threshold = dict(sigmoid=getattr(head, 'threshold', None),
                     scd=getattr(model, 'threshold', None)).get(activation)
    meta = dict(
        preprocessing(cfg),
        input_layout='NCHW',
        input_doc=INPUT_DOC,
        output=activation,
        output_doc=OUTPUT_DOC[activation],
        # SCD: classes with no change (K); the graph has 2K - 1 channels.
        num_classes=int(getattr(model, 'num_scd_classes', None)
                        or head.num_classes),
        threshold=None if threshold is None else float(threshold),
        size_divisor=graph_size_divisor(model),
        min_size=graph_min_size(model),
        dynamic=bool(dynamic),
        export_shape=list(shape),
        classes=list(classes),
        config=cfg.filename,
    )
    return {PREFIX + k: json.dumps(v) for k, v in meta.items()}


def parse_metadata(props: Dict[str, str]) -> Optional[dict]:
    """Inverse of :func:`build_metadata` (None if the graph has none)."""
    meta = {k[len(PREFIX):]: json.loads(v) for k, v in props.items()
            if k.startswith(PREFIX)}
    return meta or None
