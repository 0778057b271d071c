"""Change detection on image pairs of any size, by overlapping tiles.

mmseg's ``slide`` inference keeps full-size logits and a count map in
memory; here each tile's prediction is written straight into the output
map (only the tile's core, half the overlap trimmed on inner sides), so the
memory beyond the input and output arrays is bounded by the tile size.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmseg.apis import init_model
from mmseg.structures import SegDataSample
from torch import nn

from ..geo.tiling import core_slices, tile_windows
from ..utils.image_io import read_image
from ..utils.precision import check_backend_precision, set_precision

ImageLike = Union[str, np.ndarray]
BACKENDS = ('pytorch', 'onnxruntime', 'openvino')


def init_change_model(config, checkpoint: Optional[str] = None,
                      device: str = 'cpu', cfg_options=None,
                      backend: str = 'pytorch',
                      precision: str = 'fp32') -> nn.Module:
    """Build a change-detection model from a config.

    Args:
        config (str | Config): The model's config.
        checkpoint (str, optional): 'pytorch': a .pth file (mmseg's
            ``init_model``, loaded with ``weights_only=True``);
            'onnxruntime' and 'openvino': the .onnx file exported from this
            config by ``tools/deploy/export_onnx.py``.
        device (str): 'cpu' or 'cuda[:N]'.
        cfg_options (dict, optional): Overrides merged into the config.
        backend (str): 'pytorch' (weights in ``channels_last``),
            'onnxruntime' or 'openvino' (the exported graph). Either way the
            model has mmseg's ``test_step`` and the config's data
            preprocessor.
        precision (str): 'pytorch' backend: 'fp32', 'bf16', 'fp16' (GPU)
            or 'auto' (bf16 where the hardware runs it natively, else
            fp32); the network computes in it under autocast and its logits
            return as fp32 (``seg_plugins.utils.precision``). 'openvino':
            'fp32', 'bf16' or 'auto'; 'onnxruntime' runs fp32 ('fp32' or
            'auto').
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    check_backend_precision(backend, precision)
    if backend != 'pytorch':
        from ..deploy import init_ort_model
        if checkpoint is None:
            raise ValueError(f'backend={backend!r} needs the .onnx file as '
                             'checkpoint')
        extra = dict(precision=precision) if backend == 'openvino' else {}
        return init_ort_model(config, checkpoint, device, cfg_options,
                              backend=backend, **extra)
    model = init_model(config, checkpoint, device=device,
                       cfg_options=cfg_options)
    # Convolutions run faster on channels_last weights on the CPU
    # (tools/analysis/benchmark_backends.py); outputs follow the weights.
    model = model.to(memory_format=torch.channels_last)
    set_precision(model, precision, device)
    return model


def _change_probability(sample: SegDataSample) -> torch.Tensor:
    """(H, W) change probability of a 1-logit or 2-class prediction, or of
    a semantic change one (its last channel the change logit)."""
    logits = sample.seg_logits.data
    if 'pred_sem_seg_to' in sample:
        return logits[-1].float().sigmoid()
    if logits.shape[0] == 1:  # mmseg already applied the sigmoid
        return logits[0]
    return logits.softmax(dim=0)[1]


Tile = Union[np.ndarray, Sequence[np.ndarray]]


def model_input(tile: Tile) -> torch.Tensor:
    """(T*C, h, w) input of one tile: an (h, w, T*C) array or the dates'
    (h, w, C) arrays, uint8 kept, any other type as float32 (torch lacks
    most uint16 ops). Converted, concatenated and made channel-first in
    one copy, not ``astype`` then a second, transposing copy."""
    dates = [np.atleast_3d(d) for d in (
        tile if isinstance(tile, (list, tuple)) else [tile])]
    dtype = (np.uint8 if all(d.dtype == np.uint8 for d in dates)
             else np.float32)
    out = np.empty((sum(d.shape[2] for d in dates), ) + dates[0].shape[:2],
                   dtype)
    start = 0
    for d in dates:
        out[start:start + d.shape[2]] = d.transpose(2, 0, 1)
        start += d.shape[2]
    return torch.from_numpy(out)


@torch.no_grad()
def predict_tiles(model: nn.Module, pairs: Sequence[Tile]
                  ) -> List[Tuple[np.ndarray, np.ndarray]]:
    """One forward pass over a batch of tiles.

    Args:
        model (nn.Module): From :func:`init_change_model` (anything with
            mmseg's ``test_step``).
        pairs (Sequence): Per tile, the dates' (h, w, C) arrays, or one
            (h, w, T*C) array of their channels concatenated, in the
            loader's order, or the (T*C, h, w) tensor that
            :func:`model_input` made of them. Values are passed as they
            are (uint8, or float32 for any other type): the config's
            preprocessor normalises them.

    Returns:
        list[tuple]: per tile, change (h, w) uint8 {0, 1} (the model's own
        threshold or argmax) and change probability (h, w) uint8 0-255;
        for a semantic change model (``SCDEncoderDecoder``) also the
        from-class and to-class maps (h, w) uint8 (0 no change, else 1 +
        the class: ``scd_maps``).
    """
    inputs, samples = [], []
    for pair in pairs:
        inputs.append(pair if isinstance(pair, torch.Tensor) else
                      model_input(pair))
        shape = tuple(inputs[-1].shape[1:])
        samples.append(SegDataSample(metainfo=dict(
            img_shape=shape, ori_shape=shape)))
    outs = model.test_step(dict(inputs=inputs, data_samples=samples))
    results = []
    for out in outs:
        change = out.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        prob = (_change_probability(out).clamp(0, 1) * 255).round().byte()
        classes = tuple(
            out.get(f'pred_sem_seg_{d}').data[0].cpu().numpy().astype(
                np.uint8) for d in ('from', 'to') if 'pred_sem_seg_to' in out)
        results.append((change, prob.cpu().numpy()) + classes)
    return results


@torch.no_grad()
def infer_change(model: nn.Module,
                 img_a: ImageLike,
                 img_b: ImageLike,
                 tile: int = 256,
                 overlap: int = 32,
                 batch_size: int = 4) -> Tuple[np.ndarray, np.ndarray]:
    """Predict the change map of a pair of any size.

    Args:
        model (nn.Module): From :func:`init_change_model`.
        img_a (str | np.ndarray): Date A, a path or an (H, W, C) array in
            the loader's channel order (BGR, as mmcv reads colour images).
        img_b (str | np.ndarray): Date B, same size as A.
        tile (int): Tile side; memory grows with it, not with the image.
        overlap (int): Pixels shared by neighbouring tiles; half of it is
            trimmed from each inner tile border, where context is poorest.
        batch_size (int): Tiles per forward pass.

    Returns:
        tuple[np.ndarray, np.ndarray]: change map (H, W) uint8 {0, 1} (the
        model's own threshold or argmax) and change probability (H, W)
        uint8 scaled to 0-255.
    """
    assert 0 <= overlap < tile, f'need 0 <= overlap < tile, got {overlap}'
    names = [x if isinstance(x, str) else f'array {i}'
             for i, x in enumerate((img_a, img_b))]
    img_a, img_b = (read_image(x, 'color') if isinstance(x, str) else x
                    for x in (img_a, img_b))
    if img_a.shape != img_b.shape:
        raise ValueError(f'image pair of different shapes: {names[0]} is '
                         f'{img_a.shape}, {names[1]} is {img_b.shape}')
    height, width = img_a.shape[:2]
    change = np.zeros((height, width), np.uint8)
    prob = np.zeros((height, width), np.uint8)
    windows = list(tile_windows(height, width, tile, overlap))
    for i in range(0, len(windows), batch_size):
        batch = windows[i:i + batch_size]
        pairs = [(img_a[rows, cols], img_b[rows, cols])
                 for rows, cols, _, _ in batch]
        for window, (chg, p, *_) in zip(batch, predict_tiles(model, pairs)):
            core_r, core_c = window[2:]
            inner = core_slices(window)
            change[core_r, core_c] = chg[inner]
            prob[core_r, core_c] = p[inner]
    return change, prob
