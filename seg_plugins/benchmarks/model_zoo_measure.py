"""Size, speed and memory of one change model, with random weights.

Each function builds the model from its config through
:func:`seg_plugins.deploy.load_model` and times the graph that
:mod:`seg_plugins.deploy` exports: from the normalised input to the
probabilities.
"""
import os.path as osp
import tempfile


def one_line(e: BaseException) -> str:
    """An exception as one line of a table.

    Args:
        e (BaseException): the exception.

    Returns:
        str: its type and the last line of its message (300 characters at
        most).
    """
    return f'{type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}'


def measure_memory(config: str, size: int) -> dict:
    """Peak RSS added by building the model and inferring one pair whole.

    Run it first in a freshly forked child, whose peak starts at its RSS.

    Args:
        config (str): the model's config file.
        size (int): side of the pair; the input is ``(1, C, size, size)``.

    Returns:
        dict: ``peak_rss_mb``, in MiB.
    """
    import torch

    from seg_plugins.deploy import ProbabilityGraph, load_model
    from seg_plugins.utils.complexity import input_channels
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    start = rss_mb()
    _, model, _ = load_model(config)
    graph = ProbabilityGraph(model).eval()
    x = torch.zeros(1, input_channels(model), size, size)
    with torch.no_grad():
        graph(x)
    return dict(peak_rss_mb=peak_rss_mb() - start)


def measure_speed(config: str, repeat: int, threads: int) -> dict:
    """Params, MACs, eager and ONNX Runtime latency of one 256x256 pair.

    Args:
        config (str): the model's config file.
        repeat (int): the latencies are the fastest of this many runs.
        threads (int): ONNX Runtime's intra-op threads (torch's are set by
            the caller).

    Returns:
        dict: ``params``, ``macs``, ``eager_ms`` and either ``ort_ms`` with
        ``ort_max_abs_diff`` (largest difference of the probabilities from
        eager PyTorch's) or, where the export fails, ``ort_error``.
    """
    import numpy as np
    import onnxruntime as ort
    import torch

    from seg_plugins.deploy import ProbabilityGraph, export_model, load_model
    from seg_plugins.utils.complexity import complexity, input_channels
    from seg_plugins.utils.timing import best_time
    cfg, model, _ = load_model(config)
    params, macs = complexity(model, (256, 256))
    graph = ProbabilityGraph(model).eval()
    x = torch.randn(1, input_channels(model), 256, 256,
                    generator=torch.Generator().manual_seed(0))

    def eager():
        with torch.no_grad():
            return graph(x)

    out = dict(params=params, macs=macs,
               eager_ms=best_time(eager, repeat) * 1e3)
    ref = eager().numpy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = osp.join(tmp, 'model.onnx')
        try:
            export_model(cfg, model, onnx_file, (256, 256))
        except Exception as e:  # noqa: BLE001  (reported in the table)
            return dict(out, ort_error=one_line(e))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(onnx_file, options,
                                       providers=['CPUExecutionProvider'])
        feed = {session.get_inputs()[0].name: x.numpy()}
        out['ort_ms'] = best_time(lambda: session.run(None, feed),
                                  repeat) * 1e3
        out['ort_max_abs_diff'] = float(
            np.abs(session.run(None, feed)[0] - ref).max())
    return out
