"""Export an mmseg segmentor to ONNX: normalised input -> probabilities.

torch's TorchScript exporter (``dynamo=False``, opset 17) traces the
segmentor's own ``encode_decode`` (backbone, neck, decode head and the
resize to the input size), then the sigmoid or softmax mmseg applies after
it (per date and for change on their own for a semantic change model).
Tracing runs under ``torch.no_grad()``: tensors made under
``torch.inference_mode()`` cannot be traced.
"""
import io
import re
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmseg.models.segmentors import EncoderDecoder

from ..models.segmentors.scd_encoder_decoder import scd_probabilities
from .metadata import (
    build_metadata,
    graph_min_size,
    graph_size_divisor,
    output_activation,
)

INPUT_NAME = 'inputs'
OUTPUT_NAME = 'probs'
OPSET = 17


class ExportError(RuntimeError):
    """A model that cannot be exported; the message names the layer."""


class ProbabilityGraph(nn.Module):
    """The segmentor's whole-image inference with mmseg's activation.

    Args:
        segmentor (EncoderDecoder): In eval mode.
    """

    def __init__(self, segmentor: EncoderDecoder):
        super().__init__()
        self.segmentor = segmentor
        self.activation = output_activation(segmentor)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Args:
            inputs (Tensor): normalised, shape (N, C_in, H, W).

        Returns:
            Tensor: probabilities (N, 1 or num_classes, H, W), or for a
            semantic change model (N, 2K - 1, H, W) as
            :func:`scd_probabilities` returns them.
        """
        # A torch.Size img_shape makes the head resize to it (the branch
        # mmseg takes in slide inference), traced as the input's size.
        metas = [dict(img_shape=inputs.shape[2:])] * inputs.shape[0]
        logits = self.segmentor.encode_decode(inputs, metas)
        if self.activation == 'scd':
            return scd_probabilities(logits, self.segmentor.num_scd_classes)
        if self.activation == 'sigmoid':
            return logits.sigmoid()
        return logits.softmax(dim=1)


def check_exportable(model: nn.Module, name: str) -> None:
    """Refuse what the graph cannot express, before tracing."""
    if not isinstance(model, EncoderDecoder):
        raise ExportError(
            f'{name}: only mmseg EncoderDecoder segmentors are exported, got '
            f'{type(model).__name__} (mmdet detectors: use mmdeploy or '
            f"torch.onnx on the detector's own graph)")
    mode = (model.test_cfg or {}).get('mode', 'whole')
    if mode not in ('whole', 'slide'):
        raise ExportError(f'{name}: test_cfg.mode={mode!r} is not supported')


def _check_shape(model, shape: Tuple[int, int], name: str) -> None:
    div, low = graph_size_divisor(model), graph_min_size(model)
    h, w = shape
    if h % div or w % div or min(h, w) < low:
        raise ExportError(
            f'{name}: export shape {h}x{w} must be multiples of {div} and at '
            f'least {low} for {type(model.backbone).__name__}; pass --shape')


def _export(graph: nn.Module, dummy: torch.Tensor, f, dynamic: bool,
            **kwargs) -> None:
    axes = ({INPUT_NAME: {0: 'batch', 2: 'height', 3: 'width'},
             OUTPUT_NAME: {0: 'batch', 2: 'height', 3: 'width'}}
            if dynamic else None)
    with torch.no_grad():
        torch.onnx.export(
            graph, (dummy, ), f, dynamo=False, opset_version=OPSET,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes=axes, do_constant_folding=True, **kwargs)


def _layer_stack(model: nn.Module):
    """Forward hooks keeping the names of the modules being run."""
    stack, handles = [], []

    def enter(module, args, name):
        stack.append((name, type(module).__name__))

    def leave(module, args, output):
        stack.pop()  # returns None: a hook's return value would replace

    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(
            lambda m, a, n=name: enter(m, a, n)))
        handles.append(module.register_forward_hook(leave))
    return stack, handles


def _unsupported_nodes(graph: nn.Module, dummy: torch.Tensor,
                       op: str) -> list:
    """'name (type)' of the layers running aten op ``op``, found by
    exporting again with unsupported ops left in the graph as they are."""
    import onnx
    buf = io.BytesIO()
    try:
        _export(graph, dummy, buf, False, operator_export_type=torch.onnx.
                OperatorExportTypes.ONNX_FALLTHROUGH)
    except Exception:  # noqa: BLE001  (the first error is the one shown)
        return []
    proto = onnx.load_from_string(buf.getvalue())
    short = op.split('::')[-1]
    layers = []
    for node in proto.graph.node:
        if node.op_type != short:
            continue
        # Node names are module scopes: '/neck/scan/cummax' -> 'neck.scan'.
        path = '.'.join(node.name.strip('/').split('/')[:-1])
        path = path[len('segmentor.'):] if path.startswith(
            'segmentor.') else path
        try:
            kind = type(graph.segmentor.get_submodule(path)).__name__
        except AttributeError:
            kind = '?'
        layers.append(f'{path or "<root>"} ({kind})')
    return sorted(set(layers))


def to_onnx(model: EncoderDecoder, out_file: str, shape: Sequence[int],
            batch_size: int = 1, dynamic: bool = False,
            metadata: Optional[Dict[str, str]] = None,
            name: str = 'model') -> None:
    """Trace ``model`` into ``out_file`` and attach ``metadata``.

    Args:
        model (EncoderDecoder): In eval mode, on CPU.
        out_file (str): Path of the .onnx file.
        shape (Sequence[int]): (H, W) of the traced input.
        batch_size (int): N of the traced input (fixed unless ``dynamic``).
        dynamic (bool): Batch, height and width as dynamic axes.
        metadata (dict[str, str], optional): ``metadata_props`` to store.
        name (str): What to call the model in errors (its config).

    Raises:
        ExportError: naming the layer where tracing or conversion failed.
    """
    import onnx
    check_exportable(model, name)
    _check_shape(model, tuple(shape), name)
    in_channels = _input_channels(model)
    graph = ProbabilityGraph(model).eval()
    dummy = torch.zeros(batch_size, in_channels, *shape)
    stack, handles = _layer_stack(graph)
    try:
        _export(graph, dummy, out_file, dynamic)
    except Exception as e:  # noqa: BLE001  (re-raised with the layer)
        if stack:  # failed while tracing, inside the top layer
            layer, kind = stack[-1]
            where = f'layer {layer or "<root>"} ({kind})'
        else:  # failed converting a traced op to ONNX
            op = re.search(r"'(aten::\w+|prim::\w+)'", str(e))
            nodes = (_unsupported_nodes(graph, dummy, op.group(1))
                     if op else [])
            where = (f'op {op.group(1)} in layer(s) '
                     f'{", ".join(nodes) or "unknown"}' if op else
                     'an unknown layer')
        raise ExportError(f'{name}: cannot export to ONNX (opset {OPSET}): '
                          f'{where}: {type(e).__name__}: {e}') from e
    finally:
        for h in handles:
            h.remove()
    proto = onnx.load(out_file)
    for key, value in (metadata or {}).items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(proto, out_file)


def _input_channels(model) -> int:
    pre = model.data_preprocessor
    if getattr(pre, 'mean', None) is not None:
        return int(pre.mean.numel())
    backbone = model.backbone
    return int(getattr(backbone, 'in_channels', 3) *
               getattr(backbone, 'num_images', 1))


def load_model(config, checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None):
    """Build ``config``'s segmentor on CPU in eval mode, weights from
    ``checkpoint`` (random if None; pre-trained backbones are not fetched).

    Returns:
        tuple: (Config, EncoderDecoder, class names from the checkpoint's
        ``dataset_meta`` or ()).
    """
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmseg.apis import init_model
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('default_scope', 'mmseg') != 'mmseg':
        raise ExportError(
            f'{cfg.filename}: default_scope {cfg.default_scope!r}; only '
            'mmseg segmentation configs are exported')
    model = init_model(cfg, None, device='cpu')
    classes = ()
    if checkpoint is not None:
        # Loaded here, not by init_model: it labels a checkpoint without
        # dataset_meta with Cityscapes' classes.
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        classes = tuple(ckpt.get('meta', {}).get('dataset_meta', {}).get(
            'classes', ()))
    return cfg, model.eval(), classes


def export_model(cfg, model: EncoderDecoder, out_file: str,
                 shape: Optional[Sequence[int]] = None,
                 dynamic: bool = False, batch_size: int = 1,
                 classes: Sequence[str] = ()) -> Dict[str, str]:
    """Export ``model`` (built from ``cfg``) with its preprocessing in the
    metadata.

    Args:
        shape (Sequence[int], optional): (H, W); default the config's
            ``crop_size`` or 256 x 256.

    Returns:
        dict[str, str]: the metadata written.
    """
    shape = tuple(shape or cfg.get('crop_size', None) or (256, 256))
    meta = build_metadata(cfg, model, dynamic, shape, classes)
    to_onnx(model, out_file, shape, batch_size, dynamic, meta,
            name=cfg.filename)
    return meta


def export_config(config, checkpoint: Optional[str], out_file: str,
                  shape: Optional[Sequence[int]] = None,
                  dynamic: bool = False, batch_size: int = 1,
                  cfg_options: Optional[dict] = None) -> Dict[str, str]:
    """:func:`load_model` then :func:`export_model`."""
    cfg, model, classes = load_model(config, checkpoint, cfg_options)
    return export_model(cfg, model, out_file, shape, dynamic, batch_size,
                        classes)
