"""An mmseg segmentor whose network is an exported graph run by ONNX Runtime.

It is an ``EncoderDecoder`` without backbone or head: the config's data
preprocessor still normalises and pads (so preprocessing is exactly the
PyTorch model's), ``encode_decode`` runs the graph, and mmseg's own
``inference`` (whole or slide), ``predict`` and ``postprocess_result`` do
the rest. ``test_step`` / ``val_step`` therefore return the same
``SegDataSample`` fields as the PyTorch model, and the runner, evaluators
and :func:`~seg_plugins.apis.infer_change` take it unchanged.
"""
import math
import os
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from torch import Tensor

from ..models.segmentors.scd_encoder_decoder import scd_logits, scd_predictions
from ..utils.cpu_turns import usable_cores
from .metadata import parse_metadata, preprocessing

# Probabilities are clamped this far from 0 and 1 before they are turned
# back into logits (float32 sigmoid saturates at 1 - 6e-8).
_EPS = 1e-7


def _providers(device: str) -> List:
    """ONNX Runtime execution providers for a torch-style device string."""
    import onnxruntime as ort
    available = ort.get_available_providers()
    if device.startswith('cuda'):
        index = int(device.split(':')[1]) if ':' in device else 0
        if 'CUDAExecutionProvider' not in available:
            raise RuntimeError(
                f'device {device!r} needs onnxruntime with the CUDA provider '
                f'(pip install onnxruntime-gpu); this onnxruntime has '
                f'{available}')
        return [('CUDAExecutionProvider', dict(device_id=index)),
                'CPUExecutionProvider']
    if device != 'cpu':
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device}")
    return ['CPUExecutionProvider']


@MODELS.register_module()
class ORTSegmentor(EncoderDecoder):
    """Segmentor running an exported ``.onnx`` graph (see
    :mod:`seg_plugins.deploy.export`).

    Args:
        onnx_file (str): The exported graph: normalised input ->
            probabilities, with seg_plugins metadata.
        data_preprocessor (dict): The PyTorch config's data preprocessor.
        test_cfg (dict): The PyTorch config's ``model.test_cfg``.
        device (str): 'cpu' or 'cuda[:N]' (needs onnxruntime-gpu).
        threads (int): Intra-op threads of the CPU provider; 0: one per CPU
            this process may use. Default: 0.
        expected_preprocessing (dict, optional): What the config's
            preprocessor does (:func:`~.metadata.preprocessing`); a graph
            exported with other mean/std/channel order is refused.
    """

    def __init__(self,
                 onnx_file: str,
                 data_preprocessor: dict,
                 test_cfg: Optional[dict] = None,
                 device: str = 'cpu',
                 threads: int = 0,
                 expected_preprocessing: Optional[dict] = None,
                 init_cfg=None):
        if not os.path.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file not found: {onnx_file}')
        meta = read_metadata(onnx_file)
        if expected_preprocessing is not None:
            _check_preprocessing(meta, expected_preprocessing, onnx_file)
        data_preprocessor = _pad_for_graph(dict(data_preprocessor),
                                           meta['size_divisor'])
        # Skip EncoderDecoder.__init__: it would build backbone and head.
        BaseSegmentor.__init__(self, data_preprocessor=data_preprocessor,
                               init_cfg=init_cfg)
        self.onnx_file = onnx_file
        self.meta = meta
        self.test_cfg = ConfigDict(test_cfg or dict(mode='whole'))
        self.train_cfg = None
        self.out_channels = dict(
            sigmoid=1, softmax=meta['num_classes'],
            scd=2 * meta['num_classes'] - 1)[meta['output']]
        self.num_classes = meta['num_classes']
        if meta['output'] == 'scd':
            # What SCDEncoderDecoder and SCDTTAModel read.
            self.num_scd_classes = meta['num_classes']
            self.threshold = meta['threshold']
        # mmseg resizes logits with the head's align_corners; every head
        # here uses False.
        self.align_corners = False
        self.decode_head = _HeadInfo(meta.get('threshold'),
                                     self.num_classes, self.out_channels)
        self._fixed = self._open(onnx_file, device,
                                 int(threads) or usable_cores())

    def _open(self, onnx_file: str, device: str, threads: int) -> list:
        """Start the runtime on the graph.

        Returns:
            list: the input's (N, C, H, W), None where a dimension is
            dynamic.
        """
        import onnxruntime as ort
        options = ort.SessionOptions()
        # ONNX Runtime's own default counts physical cores; torch (and
        # the benchmark's 'threads = cores') use every CPU we may run on.
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            onnx_file, options, providers=_providers(device))
        graph_input = self.session.get_inputs()[0]
        self._input_name = graph_input.name
        return [d if isinstance(d, int) else None for d in graph_input.shape]

    def _execute(self, array: np.ndarray) -> np.ndarray:
        """Probabilities of one batch, (N, C_in, H, W) float32 in."""
        return self.session.run(None, {self._input_name: array})[0]

    @property
    def with_decode_head(self) -> bool:
        return True

    def extract_feat(self, inputs: Tensor):
        raise NotImplementedError(
            'ORTSegmentor runs the whole exported graph; it has no features')

    def loss(self, inputs, data_samples):
        raise NotImplementedError('an exported graph cannot be trained')

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        """Probabilities (N, K, H, W), as the exported graph returns them."""
        return self._run(inputs)

    def _run(self, inputs: Tensor) -> Tensor:
        n, _, h, w = inputs.shape
        div, low = self.meta['size_divisor'], self.meta['min_size']
        if h % div or w % div or min(h, w) < low:
            raise ValueError(
                f'{self.onnx_file} takes heights and widths that are '
                f'multiples of {div} and at least {low}, got {h}x{w}: pad '
                f'the input (a Pad transform, or larger tiles)')
        fixed_n, _, fixed_h, fixed_w = self._fixed
        if (fixed_h, fixed_w) != (None, None) and (h, w) != (fixed_h,
                                                             fixed_w):
            raise ValueError(
                f'{self.onnx_file} was exported for {fixed_h}x{fixed_w} '
                f'inputs only, got {h}x{w}: export with --dynamic, or with '
                f'--shape {h} {w}')
        array = inputs.detach().to('cpu', torch.float32).numpy()
        if fixed_n is not None and fixed_n != n:
            if fixed_n != 1:
                raise ValueError(f'{self.onnx_file} takes batches of exactly '
                                 f'{fixed_n}, got {n}: export with --dynamic')
            outs = [self._execute(a[None])
                    for a in np.ascontiguousarray(array)]
            probs = np.concatenate(outs)
        else:
            probs = self._execute(np.ascontiguousarray(array))
        return torch.from_numpy(probs).to(inputs.device)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Args:
            inputs (Tensor): normalised, padded, shape (N, C_in, H, W).

        Returns:
            Tensor: (N, out_channels, H, W) in the logit space mmseg's
            ``postprocess_result`` expects: logit(p) for a sigmoid head,
            log(p) for softmax (whose softmax is p again), both for a
            semantic change graph (:func:`scd_logits`).
        """
        if self.meta['output'] == 'scd':
            return scd_logits(self._run(inputs), self.num_scd_classes, _EPS)
        probs = self._run(inputs).clamp(_EPS, 1 - _EPS)
        if self.out_channels == 1:
            return torch.log(probs) - torch.log1p(-probs)
        return torch.log(probs)

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: Optional[list] = None) -> list:
        """mmseg's, then for a semantic change graph the three maps of
        :class:`SCDEncoderDecoder`."""
        data_samples = super().postprocess_result(seg_logits, data_samples)
        if self.meta['output'] == 'scd':
            scd_predictions(data_samples, self.num_scd_classes,
                            self.threshold)
        return data_samples


class _HeadInfo:
    """What mmseg's postprocessing reads from ``decode_head``."""

    def __init__(self, threshold, num_classes, out_channels):
        self.threshold = 0.5 if threshold is None else threshold
        self.num_classes = num_classes
        self.out_channels = out_channels
        self.align_corners = False


def read_metadata(onnx_file: str) -> dict:
    """The seg_plugins metadata that the export wrote into a graph.

    Raises:
        ValueError: naming the file, when the graph has none.
    """
    import onnx
    proto = onnx.load(onnx_file, load_external_data=False)
    meta = parse_metadata({p.key: p.value for p in proto.metadata_props})
    if meta is None:
        raise ValueError(
            f'{onnx_file} has no seg_plugins metadata: export it with '
            'tools/deploy/export_onnx.py')
    return meta


def _check_preprocessing(meta: dict, expected: dict, onnx_file: str) -> None:
    """The graph's recorded preprocessing must be the config's."""
    wrong = []
    for key in ('num_images', 'channels', 'bgr_to_rgb'):
        if meta[key] != expected[key]:
            wrong.append(f'{key}: graph {meta[key]}, config {expected[key]}')
    for key in ('mean', 'std'):
        if len(meta[key]) != len(expected[key]) or not np.allclose(
                meta[key], expected[key]):
            wrong.append(f'{key}: graph {meta[key]}, config {expected[key]}')
    if wrong:
        raise ValueError(f'{onnx_file} was exported with another '
                         f'preprocessing than the config: {"; ".join(wrong)}')


def _pad_for_graph(pre: dict, divisor: int) -> dict:
    """Make the preprocessor pad test inputs to a multiple of the graph's
    ``divisor`` too (FCN configs pad to 1; their graph needs 32)."""
    test_cfg = dict(pre.get('test_cfg') or {})
    if test_cfg.get('size') is None:
        own = int(test_cfg.get('size_divisor') or 1)
        test_cfg['size_divisor'] = own * divisor // math.gcd(own, divisor)
        pre['test_cfg'] = test_cfg
    return pre


def init_ort_model(config, onnx_file: str, device: str = 'cpu',
                   cfg_options: Optional[dict] = None,
                   threads: int = 0,
                   backend: str = 'onnxruntime',
                   **runtime_kwargs) -> ORTSegmentor:
    """Build a segmentor running ``config``'s exported graph.

    Args:
        config (str | Config): The config the graph was exported from (its
            data preprocessor and ``test_cfg`` are used).
        onnx_file (str): The .onnx file.
        device (str): 'cpu' or 'cuda[:N]'.
        cfg_options (dict, optional): Overrides merged into the config.
        threads (int): CPU threads; 0: one per CPU this process may use.
        backend (str): 'onnxruntime' (:class:`ORTSegmentor`) or 'openvino'
            (:class:`OpenVINOSegmentor`).
        **runtime_kwargs: The segmentor's own arguments (OpenVINO's
            ``precision``).

    Returns:
        ORTSegmentor: in eval mode, with ``.cfg`` and ``dataset_meta``.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    runtimes = dict(onnxruntime='ORTSegmentor', openvino='OpenVINOSegmentor')
    if backend not in runtimes:
        raise ValueError(f'backend must be one of {sorted(runtimes)}, got '
                         f'{backend!r}')
    model = MODELS.get(runtimes[backend])(
        onnx_file,
        data_preprocessor=cfg.model.data_preprocessor,
        test_cfg=cfg.model.get('test_cfg'),
        device=device,
        threads=threads,
        expected_preprocessing=preprocessing(cfg),
        **runtime_kwargs)
    model.cfg = cfg
    classes: Sequence = model.meta.get('classes') or ()
    model.dataset_meta = dict(classes=tuple(classes)) if classes else None
    return model.eval()
