"""Test (and evaluate) a checkpoint of an mmseg or mmdet config.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out OUT]
        [--show-dir DIR] [--tta] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]
        [--backend {pytorch,onnxruntime,openvino}]
        [--protocol {whole,slideN}] [--precision {fp32,bf16,fp16,auto}]

``--out``: mmseg configs write prediction PNGs to the directory OUT (as
mmseg's tool does); mmdet configs dump results to the pickle file OUT (as
mmdet's tool does). The metrics are logged and written to
``<work_dir>/<timestamp>/<timestamp>.json``.

``--protocol whole|slideN`` (mmseg configs): infer each test image whole,
or in N x N windows with stride N (``slide256``: LEVIR-CD's 1024x1024
tiles scored as 256x256 crops; open-cd's users found the two differ by
0.4-1 F1 point); default the config's ``model.test_cfg``. The metrics line
starts with the protocol used.

``--backend onnxruntime|openvino``: CHECKPOINT is a graph exported from
CONFIG by ``tools/deploy/export_onnx.py``; the runner, dataset, data
preprocessor and evaluator are the config's, only the network is run by
ONNX Runtime (fp32) or OpenVINO (fp32 or bf16).

``--precision fp32|bf16|fp16|auto`` (mmseg): the dtype the network computes
in, under autocast for the pytorch backend; logits go back to fp32 before
any threshold. ``auto`` is bf16 where the hardware runs it natively (AMX or
AVX512-BF16, CUDA compute capability >= 8.0), fp32 elsewhere. The metrics
line names the precision used.
"""
import argparse
import os.path as osp
import re
import sys

from mmengine.config import ConfigDict

import seg_plugins  # noqa: F401  (registers components, torch compat)
import seg_plugins.deploy  # noqa: F401  (registers ORTSegmentor)
from seg_plugins.utils.precision import check_backend_precision, set_precision
from seg_plugins.utils.quiet_upstream import quiet_upstream, quiet_upstream_log
from seg_plugins.utils.runner_setup import (
    build_runner,
    default_scope,
    load_config,
    parse_runner_args,
    process_group_closed_at_end,
    setup_device,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out',
        help='mmseg: directory for prediction PNGs; mmdet: .pkl result file')
    parser.add_argument(
        '--show-dir', help='directory where painted predictions are saved')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument(
        '--backend',
        choices=['pytorch', 'onnxruntime', 'openvino'],
        default='pytorch',
        help='onnxruntime, openvino: CHECKPOINT is an exported .onnx file')
    parser.add_argument(
        '--protocol',
        help="mmseg: 'whole' (each image at once) or 'slideN' (N x N "
        "windows, stride N); default: the config's model.test_cfg")
    parser.add_argument(
        '--precision', choices=['fp32', 'bf16', 'fp16', 'auto'],
        default='fp32',
        help='mmseg (pytorch, openvino): the dtype the network computes in '
        '(logits back in fp32 before any threshold); auto: bf16 where the '
        'hardware has it natively (AMX / AVX512-BF16, CUDA sm >= 8.0)')
    return parse_runner_args(parser)


def set_protocol(cfg, protocol: str, scope: str) -> None:
    """Set ``model.test_cfg`` for ``--protocol`` ('whole' or 'slideN')."""
    match = re.fullmatch(r'whole|slide(\d+)', protocol)
    if scope != 'mmseg' or not match:
        sys.exit(f"error: --protocol {protocol}: expected 'whole' or "
                 f"'slideN' (e.g. slide256), for mmseg configs")
    test_cfg = ConfigDict(cfg.model.get('test_cfg', None) or {})
    for key in ('crop_size', 'stride'):
        test_cfg.pop(key, None)
    test_cfg.mode = 'slide' if match.group(1) else 'whole'
    if match.group(1):
        size = int(match.group(1))
        test_cfg.crop_size = test_cfg.stride = (size, size)
    cfg.model.test_cfg = test_cfg


def describe_protocol(test_cfg) -> str:
    """'whole', 'slide256' or 'slide256x256/stride128x128'."""
    test_cfg = test_cfg or {}
    if test_cfg.get('mode', 'whole') != 'slide':
        return test_cfg.get('mode', 'whole')
    crop, stride = tuple(test_cfg['crop_size']), tuple(test_cfg['stride'])
    if crop == stride and crop[0] == crop[1]:
        return f'slide{crop[0]}'
    return (f'slide{crop[0]}x{crop[1]}/stride{stride[0]}x{stride[1]}')


def use_graph(cfg, onnx_file, scope, backend, precision):
    """Replace the config's network by the exported graph (ORTSegmentor or
    OpenVINOSegmentor), keeping its data preprocessor and test_cfg."""
    if scope != 'mmseg':
        raise RuntimeError(f'--backend {backend} supports mmseg configs only')
    import torch

    from seg_plugins.deploy import preprocessing
    try:
        check_backend_precision(backend, precision)
    except ValueError as e:
        sys.exit(f'error: --precision: {e}')
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


def enable_visualization(cfg, show_dir, scope):
    """Turn on the config's visualization hook, saving under ``show_dir``."""
    hook = cfg.default_hooks.get('visualization', None)
    if hook is None:
        raise RuntimeError(
            f'--show-dir needs a "visualization" entry in default_hooks of '
            f'{cfg.filename}')
    hook['draw'] = True
    hook['interval'] = 1
    if scope == 'mmdet':
        hook['test_out_dir'] = show_dir
    else:
        cfg.visualizer['save_dir'] = show_dir


def enable_tta(cfg, scope):
    """Wrap the model for test-time augmentation, as mmseg/mmdet tools do."""
    if 'tta_pipeline' not in cfg:
        raise RuntimeError(f'--tta needs tta_pipeline in {cfg.filename}')
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


def test_precision(model, args, scope):
    """Apply ``--precision``; the precision in force (None: not mmseg)."""
    if scope != 'mmseg':
        return None
    if args.backend != 'pytorch':
        return getattr(model, 'precision', 'fp32')
    try:
        return set_precision(model, args.precision)
    except ValueError as e:
        sys.exit(f'error: --precision: {e}')


def main():
    quiet_upstream()
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    scope = default_scope(cfg)
    cfg.load_from = args.checkpoint
    if args.protocol:
        set_protocol(cfg, args.protocol, scope)
    # Named on the metrics line: whole-image and sliding-window scores of
    # the same checkpoint differ.
    protocol = (describe_protocol(cfg.model.get('test_cfg', None))
                if scope == 'mmseg' else None)
    if args.backend != 'pytorch':
        use_graph(cfg, args.checkpoint, scope, args.backend, args.precision)
    if args.show_dir:
        enable_visualization(cfg, args.show_dir, scope)
    if args.tta:
        enable_tta(cfg, scope)
    if args.out is not None and scope == 'mmseg':
        evaluators = cfg.test_evaluator
        for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
            ev['output_dir'] = args.out
            ev['keep_results'] = True

    setup_device(cfg)
    with process_group_closed_at_end():
        runner = build_runner(cfg)
        quiet_upstream_log(runner.logger)
        precision = test_precision(runner.model, args, scope)
        if args.out is not None and scope == 'mmdet':
            from mmdet.evaluation import DumpDetResults
            assert args.out.endswith(('.pkl', '.pickle')), (
                f'--out for mmdet configs is a .pkl file, got {args.out}')
            runner.test_evaluator.metrics.append(
                DumpDetResults(out_file_path=args.out))
        try:
            metrics = runner.test()
        except FileNotFoundError as e:  # missing data or checkpoint
            sys.exit(f'error: {e}')
    if runner.rank == 0:
        items = ([f'protocol={protocol}'] if protocol else []) + (
            [f'precision={precision}'] if precision else []) + [
            f'{k}={v}' for k, v in metrics.items()]
        print('metrics:', ', '.join(items))
        print('log and metrics json under', osp.join(cfg.work_dir,
                                                    runner.timestamp))


if __name__ == '__main__':
    main()
