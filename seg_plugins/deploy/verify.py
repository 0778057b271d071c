"""Compare an exported graph with the PyTorch model it came from."""
from typing import List, Sequence

import numpy as np
import torch

from ..models.segmentors.scd_encoder_decoder import scd_logits, scd_maps
from .export import ProbabilityGraph
from .ort_model import read_metadata

# What the export promises: probabilities within 1e-4, maps on >= 99.99 %
# of pixels.
ATOL = 1e-4
MIN_AGREEMENT = 0.9999


def probability_maps(probs: np.ndarray, meta: dict) -> np.ndarray:
    """(N, K, H, W) probabilities -> (N, H, W) predicted class, as mmseg
    predicts (threshold for one channel, argmax otherwise); a semantic
    change graph's -> (N, 3, H, W) change, from and to maps."""
    if meta['output'] == 'scd':
        k = meta['num_classes']
        logits = scd_logits(torch.from_numpy(probs), k)
        return scd_maps(logits, k, meta['threshold']).numpy()
    if probs.shape[1] == 1:
        return (probs[:, 0] > meta['threshold']).astype(np.int64)
    return probs.argmax(axis=1)


def _top_gap(probs: np.ndarray) -> np.ndarray:
    """(N, K, H, W) -> (N, H, W) margin of the argmax over the runner-up."""
    top2 = np.partition(probs, -2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def decided(probs: np.ndarray, meta: dict) -> np.ndarray:
    """(N, H, W) pixels whose prediction a change of ``ATOL`` in the
    probabilities cannot flip: only these count in the agreement (an
    untrained head puts pixels on the threshold, where rounding decides)."""
    if meta['output'] == 'scd':
        k = meta['num_classes'] - 1
        margin = np.abs(probs[:, -1] - meta['threshold'])
        dates = [_top_gap(probs[:, i * k:(i + 1) * k]) / 2 for i in (0, 1)]
        return np.minimum.reduce([margin, *dates]) > ATOL
    if probs.shape[1] == 1:
        return np.abs(probs[:, 0] - meta['threshold']) > ATOL
    return _top_gap(probs) / 2 > ATOL


def check_shapes(meta: dict) -> List[Sequence[int]]:
    """(N, H, W) to test: the export shape, and for a dynamic graph another
    batch size and a size one divisor step larger."""
    h, w = meta['export_shape']
    shapes = [(1, h, w)]
    if meta['dynamic']:
        d = meta['size_divisor']
        shapes.append((2, h + d, w + 2 * d))
    return shapes


def compare(model, session, meta: dict, shape: Sequence[int],
            seed: int = 0) -> dict:
    """Max |difference| of the probabilities and agreement of the maps
    (on the pixels :func:`decided`) on one random normalised input of
    ``shape`` (N, H, W)."""
    n, h, w = shape
    channels = meta['num_images'] * meta['channels']
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, h, w, generator=gen)
    with torch.no_grad():
        ref = ProbabilityGraph(model).eval()(x).numpy()
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    same = probability_maps(ref, meta) == probability_maps(out, meta)
    mask = decided(ref, meta)
    if same.ndim == 4:  # semantic change: (N, 3, H, W)
        mask = np.broadcast_to(mask[:, None], same.shape)
    agree = float(same[mask].mean()) if mask.any() else 1.0
    diff = float(np.abs(ref - out).max())
    return dict(shape=list(shape), max_abs_diff=diff, agreement=agree,
                ok=diff <= ATOL and agree >= MIN_AGREEMENT)


def verify_export(model, onnx_file: str) -> dict:
    """Run :func:`compare` at every shape of :func:`check_shapes`.

    Args:
        model (EncoderDecoder): The model the graph was exported from.
        onnx_file (str): The graph.

    Returns:
        dict: ``ok`` and the per-shape ``checks``.
    """
    import onnxruntime as ort
    meta = read_metadata(onnx_file)
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    checks = [compare(model, session, meta, s) for s in check_shapes(meta)]
    return dict(ok=all(c['ok'] for c in checks), checks=checks)
