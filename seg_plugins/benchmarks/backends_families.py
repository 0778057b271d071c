"""The backends benchmark's network timings
(``tools/analysis/benchmark_backends.py``): one config family's network on
one batch, from its input to its probabilities, with each backend."""
import copy
import os.path as osp
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch

from seg_plugins.utils.timing import best_time

# name: (config, batch, H, W, cfg_options)
FAMILIES = {
    'change_unet': ('configs/changedet_unet.py', 4, 256, 256, {}),
    'fc_siam_diff': ('configs/changedet_fc_siam_diff.py', 4, 256, 256, {}),
    'change_unet_softmax': ('configs/changedet_unet_softmax.py', 4, 256,
                            256, {}),
    'strided_unet': ('configs/unet_strided_voc12.py', 1, 256, 256, {}),
    'fcn8s': ('configs/fcn8s_vgg16_voc12.py', 1, 256, 256, {}),
    'fcn8s_deconv_bn': ('configs/fcn8s_deconv_bn_vgg16_voc12.py', 1, 224,
                        224, {}),
    # The change-model zoo, on the headline model's batch. Not TinyCDv2:
    # its depthwise strip convolutions stall eager bf16 in channels-last.
    'fc_siam_conc': ('configs/changedet_fc_siam_conc.py', 4, 256, 256, {}),
    'snunet_c16': ('configs/changedet_snunet_c16.py', 4, 256, 256, {}),
    'lightcdnet_s': ('configs/changedet_lightcdnet_s.py', 4, 256, 256, {}),
    'hanet': ('configs/changedet_hanet.py', 4, 256, 256, {}),
    'changerex_r18': ('configs/changedet_changerex_r18.py', 4, 256, 256, {}),
    'bit_r18': ('configs/changedet_bit_r18.py', 4, 256, 256, {}),
}


def bench_family(name: str, spec: tuple, threads: int, repeat: int,
                 tmp: str) -> Tuple[Dict[str, float], float,
                                    Dict[str, float], Dict[str, float]]:
    """Time the family's network with every backend on the same input.

    Eager fp32 under ``torch.no_grad()`` (the baseline), under
    ``torch.inference_mode()``, in ``channels_last``, ONNX Runtime's CPU
    provider on the exported graph, eager bf16 (autocast, channels_last)
    and, if installed, OpenVINO in fp32 and bf16.

    Args:
        name (str): the family, naming the ONNX file in ``tmp``.
        spec (tuple): ``(config, batch, H, W, cfg_options)``.
        threads (int): ONNX Runtime's and OpenVINO's threads.
        repeat (int): timed runs per backend (the fastest counts).
        tmp (str): a folder for the exported graph.

    Returns:
        tuple: seconds per backend; megapixels of the batch; max
        absolute difference from eager of ``channels_last`` and
        ``onnxruntime``; share of the same change decision as eager of
        the bf16 and OpenVINO rows.
    """
    import onnxruntime as ort

    from seg_plugins.deploy import ProbabilityGraph, export_model, load_model
    config, n, h, w, options = spec
    cfg, model, _ = load_model(config, None, options)
    onnx_file = osp.join(tmp, f'{name}.onnx')
    export_model(cfg, model, onnx_file, (h, w), dynamic=True)
    graph = ProbabilityGraph(model).eval()
    channels = int(model.data_preprocessor.mean.numel())
    x = torch.randn(n, channels, h, w, generator=torch.Generator()
                    .manual_seed(0))
    rows = {}

    def eager():
        with torch.no_grad():
            return graph(x)

    def eager_inference_mode():
        with torch.inference_mode():
            return graph(x)

    rows['eager'] = best_time(eager, repeat)
    rows['eager inference_mode'] = best_time(eager_inference_mode, repeat)
    ref = eager().numpy()
    graph_cl = copy.deepcopy(graph).to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def eager_cl():
        with torch.no_grad():
            return graph_cl(x_cl)

    rows['eager channels_last'] = best_time(eager_cl, repeat)
    diff_cl = float(np.abs(eager_cl().numpy() - ref).max())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(onnx_file, options,
                                   providers=['CPUExecutionProvider'])
    feed = {session.get_inputs()[0].name: x.numpy()}
    rows['onnxruntime'] = best_time(lambda: session.run(None, feed), repeat)
    diff_ort = float(np.abs(session.run(None, feed)[0] - ref).max())

    def eager_bf16():
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16,
                                             cache_enabled=False):
            return graph_cl(x_cl).float()

    rows['eager bf16'] = best_time(eager_bf16, repeat)
    same = {'eager bf16': same_map(eager_bf16().numpy(), ref)}
    for precision in ('fp32', 'bf16'):
        run = openvino_runner(onnx_file, precision, threads)
        if run is None:
            break
        name = f'openvino {precision}'
        rows[name] = best_time(lambda run=run: run(x.numpy()), repeat)
        same[name] = same_map(run(x.numpy()), ref)
    mp = n * h * w / 1e6
    return rows, mp, dict(channels_last=diff_cl, onnxruntime=diff_ort), same


def same_map(probs: np.ndarray, ref: np.ndarray) -> float:
    """Share of pixels with the same change decision as ``ref``.

    Args:
        probs (np.ndarray): probabilities, (N, C, H, W); C = 1: the
            decision is p > 0.5, else the argmax over C.
        ref (np.ndarray): the reference probabilities, same shape.

    Returns:
        float: the share, in [0, 1].
    """
    if probs.shape[1] == 1:
        return float(((probs > 0.5) == (ref > 0.5)).mean())
    return float((probs.argmax(1) == ref.argmax(1)).mean())


def openvino_runner(onnx_file: str, precision: str,
                    threads: int) -> Optional[Callable]:
    """OpenVINO's CPU runtime on the graph, compiled as the backend
    compiles it (None if OpenVINO is not installed).

    Returns:
        callable: maps an input array (N, C, H, W) to the first output.
    """
    try:
        import openvino  # noqa: F401
    except ImportError:
        return None
    from seg_plugins.deploy.openvino_model import compile_graph
    compiled, _ = compile_graph(onnx_file, precision, threads)
    request = compiled.create_infer_request()

    def run(array):
        request.infer([array])
        return np.array(request.get_output_tensor(0).data)

    return run
