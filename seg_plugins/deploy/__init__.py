"""ONNX export of mmseg segmentors and an ONNX Runtime backend.

``export_config`` writes a graph (normalised input -> probabilities) with
its preprocessing in the ONNX metadata; ``ORTSegmentor`` (ONNX Runtime) and
``OpenVINOSegmentor`` run it behind the config's own data preprocessor and
mmseg's postprocessing. onnx and the runtimes are imported only when used.
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
from .openvino_model import OpenVINOSegmentor
from .ort_model import ORTSegmentor, init_ort_model

__all__ = [
    'ExportError', 'ProbabilityGraph', 'export_config', 'export_model',
    'load_model', 'to_onnx',
    'build_metadata', 'parse_metadata', 'preprocessing', 'ORTSegmentor',
    'OpenVINOSegmentor', 'init_ort_model'
]
