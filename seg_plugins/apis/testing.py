"""Set-up of a test run's config (``tools/test.py``).

Each function changes one thing of an mmseg or mmdet config before the
runner is built, as upstream's test tools do for their own options: the
inference protocol, an exported graph in place of the network, drawing,
test-time augmentation, the precision and where predictions go. A wrong
option raises ``ValueError`` with the option's name; the tool prints it as
one ``error:`` line.
"""
import re
from typing import Optional

from mmengine.config import Config, ConfigDict
from torch import nn

from ..utils.precision import check_backend_precision, set_precision


def set_protocol(cfg: Config, protocol: str, scope: str) -> None:
    """Set ``model.test_cfg`` for ``--protocol``.

    Args:
        cfg (Config): An mmseg config; changed in place.
        protocol (str): 'whole' (each image at once) or 'slideN' (N x N
            windows with stride N, e.g. 'slide256').
        scope (str): The config's default scope.

    Raises:
        ValueError: ``protocol`` is neither, or the config is not mmseg's.
    """
    match = re.fullmatch(r'whole|slide(\d+)', protocol)
    if scope != 'mmseg' or not match:
        raise ValueError(f"--protocol {protocol}: expected 'whole' or "
                         f"'slideN' (e.g. slide256), for mmseg configs")
    test_cfg = ConfigDict(cfg.model.get('test_cfg', None) or {})
    for key in ('crop_size', 'stride'):
        test_cfg.pop(key, None)
    test_cfg.mode = 'slide' if match.group(1) else 'whole'
    if match.group(1):
        size = int(match.group(1))
        test_cfg.crop_size = test_cfg.stride = (size, size)
    cfg.model.test_cfg = test_cfg


def describe_protocol(test_cfg: Optional[dict]) -> str:
    """The protocol of an mmseg ``model.test_cfg`` in a word.

    Returns:
        str: 'whole', 'slide256' (square windows, stride their side) or
        'slide256x256/stride128x128'.
    """
    test_cfg = test_cfg or {}
    if test_cfg.get('mode', 'whole') != 'slide':
        return test_cfg.get('mode', 'whole')
    crop, stride = tuple(test_cfg['crop_size']), tuple(test_cfg['stride'])
    if crop == stride and crop[0] == crop[1]:
        return f'slide{crop[0]}'
    return (f'slide{crop[0]}x{crop[1]}/stride{stride[0]}x{stride[1]}')


def use_graph(cfg: Config, onnx_file: str, scope: str, backend: str,
              precision: str) -> None:
    """Replace the config's network by an exported graph.

    The graph is run by ``ORTSegmentor`` (ONNX Runtime, on CUDA where both
    torch and ONNX Runtime have it) or ``OpenVINOSegmentor``, behind the
    config's own data preprocessor and ``test_cfg``; nothing is loaded
    from a checkpoint.

    Args:
        cfg (Config): An mmseg config; changed in place.
        onnx_file (str): Written from ``cfg`` by
            ``tools/deploy/export_onnx.py``.
        scope (str): The config's default scope.
        backend (str): 'onnxruntime' or 'openvino'.
        precision (str): What the network computes in ('fp32', 'bf16',
            'fp16' or 'auto').

    Raises:
        ValueError: The config is not mmseg's.
        ValueError: ``backend`` cannot run ``precision``.
    """
    if scope != 'mmseg':
        raise ValueError(f'--backend {backend} supports mmseg configs only')
    import torch

    from ..deploy import preprocessing
    try:
        check_backend_precision(backend, precision)
    except ValueError as e:
        raise ValueError(f'--precision: {e}') from e
    if backend == 'openvino':
        runtime = dict(type='OpenVINOSegmentor', precision=precision,
                       device='cpu')
    else:
        import onnxruntime
        cuda = (torch.cuda.is_available() and 'CUDAExecutionProvider'
                in onnxruntime.get_available_providers())
        runtime = dict(type='ORTSegmentor', device='cuda' if cuda else 'cpu')
    cfg.model = ConfigDict(
        onnx_file=onnx_file,
        data_preprocessor=cfg.model.data_preprocessor,
        test_cfg=cfg.model.get('test_cfg', None),
        expected_preprocessing=preprocessing(cfg), **runtime)
    cfg.load_from = None


def enable_visualization(cfg: Config, show_dir: str, scope: str) -> None:
    """Turn on the config's visualization hook for every test batch,
    saving under ``show_dir``.

    Raises:
        ValueError: ``default_hooks`` has no 'visualization' entry.
    """
    hook = cfg.default_hooks.get('visualization', None)
    if hook is None:
        raise ValueError(
            f'--show-dir needs a "visualization" entry in default_hooks of '
            f'{cfg.filename}')
    hook['draw'] = True
    hook['interval'] = 1
    if scope == 'mmdet':
        hook['test_out_dir'] = show_dir
    else:
        cfg.visualizer['save_dir'] = show_dir


def enable_tta(cfg: Config, scope: str) -> None:
    """Wrap the model for test-time augmentation, as mmseg's and mmdet's
    tools do: the config's ``tta_model`` (default ``SegTTAModel`` or
    ``DetTTAModel``) around its model, ``tta_pipeline`` as the test
    pipeline.

    Raises:
        ValueError: The config has no ``tta_pipeline``.
    """
    if 'tta_pipeline' not in cfg:
        raise ValueError(f'--tta needs tta_pipeline in {cfg.filename}')
    tta_model = cfg.get('tta_model', None) or ConfigDict(
        type='SegTTAModel' if scope == 'mmseg' else 'DetTTAModel')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = ConfigDict(**tta_model, module=cfg.model)
    # The runner gives the wrapper the config's top-level `data_preprocessor`
    # and the wrapper puts it into the module, replacing the module's own:
    # --cfg-options model.data_preprocessor.* would be silently dropped.
    if 'data_preprocessor' in cfg.model.module:
        cfg.model.setdefault('data_preprocessor',
                             cfg.model.module.data_preprocessor)


def keep_predictions(cfg: Config, out: str, scope: str) -> None:
    """mmseg configs: every test evaluator writes its prediction PNGs to
    the directory ``out`` (as mmseg's tool does for ``--out``); mmdet
    configs dump theirs through the runner instead
    (:func:`dump_detections`)."""
    if scope != 'mmseg':
        return
    evaluators = cfg.test_evaluator
    for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
        ev['output_dir'] = out
        ev['keep_results'] = True


def dump_detections(runner, out: str) -> None:
    """mmdet: the built runner's test results also go to the pickle file
    ``out`` (mmdet's ``DumpDetResults``, as mmdet's tool does)."""
    from mmdet.evaluation import DumpDetResults
    assert out.endswith(('.pkl', '.pickle')), (
        f'--out for mmdet configs is a .pkl file, got {out}')
    runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=out))


def set_test_precision(model: nn.Module, scope: str, backend: str,
                       precision: str) -> Optional[str]:
    """Apply ``--precision`` to the runner's model.

    Args:
        model (nn.Module): The built runner's model.
        scope (str): The config's default scope.
        backend (str): 'pytorch', 'onnxruntime' or 'openvino'; an exported
            graph was given its precision when built (:func:`use_graph`).
        precision (str): 'fp32', 'bf16', 'fp16' or 'auto'.

    Returns:
        str | None: The precision in force; None for mmdet configs, which
        run as built.

    Raises:
        ValueError: The model's device cannot run ``precision``.
    """
    if scope != 'mmseg':
        return None
    if backend != 'pytorch':
        return getattr(model, 'precision', 'fp32')
    try:
        return set_precision(model, precision)
    except ValueError as e:
        raise ValueError(f'--precision: {e}') from e
