"""The exported graph run by OpenVINO's CPU runtime.

OpenVINO reads the ``.onnx`` file that ``tools/deploy/export_onnx.py``
writes and, on CPUs with AMX or AVX512-BF16, runs it in bf16 (its
``INFERENCE_PRECISION_HINT``); elsewhere in fp32. Everything around the
graph (preprocessing, padding, slide/whole inference, postprocessing) is
:class:`ORTSegmentor`'s.
"""
import numpy as np
from mmseg.registry import MODELS

from ..utils.precision import check_backend_precision, resolve_precision
from .ort_model import ORTSegmentor

# OpenVINO's names for the precisions of seg_plugins.utils.precision.
_HINTS = {'fp32': 'f32', 'bf16': 'bf16'}


def compile_graph(onnx_file: str, precision: str, threads: int):
    """The ``.onnx`` graph compiled by OpenVINO for the CPU.

    Args:
        onnx_file (str): The exported graph.
        precision (str): 'fp32' or 'bf16'.
        threads (int): Inference threads.

    Returns:
        tuple: (``openvino.CompiledModel``, the graph's input
        ``PartialShape``).
    """
    import openvino as ov
    core = ov.Core()
    graph = core.read_model(onnx_file)
    compiled = core.compile_model(
        graph, 'CPU', {
            'INFERENCE_PRECISION_HINT': _HINTS[precision],
            'INFERENCE_NUM_THREADS': threads,
            # Tiles come one batch at a time: latency, not streams.
            'PERFORMANCE_HINT': 'LATENCY',
        })
    return compiled, graph.inputs[0].get_partial_shape()


@MODELS.register_module()
class OpenVINOSegmentor(ORTSegmentor):
    """Segmentor running an exported ``.onnx`` graph with OpenVINO.

    Args:
        precision (str): 'fp32', 'bf16' or 'auto' (bf16 where the CPU runs
            it natively, else fp32). Default: 'auto'.
        **kwargs: :class:`ORTSegmentor`'s arguments (``device`` 'cpu' only).
    """

    def __init__(self, *args, precision: str = 'auto', **kwargs):
        check_backend_precision('openvino', precision)
        self.precision = resolve_precision(precision, 'cpu')
        super().__init__(*args, **kwargs)

    def _open(self, onnx_file: str, device: str, threads: int) -> list:
        if device != 'cpu':
            raise ValueError(f"the OpenVINO backend runs on 'cpu', got "
                             f'{device!r}')
        self.compiled, shape = compile_graph(onnx_file, self.precision,
                                             threads)
        self._request = self.compiled.create_infer_request()
        return [d.get_length() if d.is_static else None for d in shape]

    def _execute(self, array: np.ndarray) -> np.ndarray:
        self._request.infer([array])
        # Copied: the request's output buffer is reused by the next batch.
        return np.array(self._request.get_output_tensor(0).data, np.float32)
