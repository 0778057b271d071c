"""ONNX export of mmseg segmentors and an ONNX Runtime backend.

``export_config`` writes a graph (normalised input -> probabilities) with
its preprocessing in the ONNX metadata; ``ORTSegmentor`` runs it behind the
config's own data preprocessor and mmseg's postprocessing. onnx and
onnxruntime are imported only when used.
"""
from .export import (
                     ExportError,
                     ProbabilityGraph,
                     export_config,
                     export_model,
                     load_model,
                     to_onnx,
)
from .metadata import build_metadata, parse_metadata, preprocessing
from .ort_model import ORTSegmentor, init_ort_model

__all__ = [
    'ExportError', 'ProbabilityGraph', 'export_config', 'export_model',
    'load_model', 'to_onnx',
    'build_metadata', 'parse_metadata', 'preprocessing', 'ORTSegmentor',
    'init_ort_model'
]
