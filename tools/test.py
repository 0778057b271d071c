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
import sys

import seg_plugins  # noqa: F401  (registers components, torch compat)
import seg_plugins.deploy  # noqa: F401  (registers ORTSegmentor)
from seg_plugins.apis.testing import (
    describe_protocol,
    dump_detections,
    enable_tta,
    enable_visualization,
    keep_predictions,
    set_protocol,
    set_test_precision,
    use_graph,
)
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


def configure(cfg, args, scope):
    """The options' changes to the config, before the runner is built;
    the protocol that the metrics line names (None: not mmseg)."""
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
    if args.out is not None:
        keep_predictions(cfg, args.out, scope)
    return protocol


def main():
    quiet_upstream()
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    scope = default_scope(cfg)
    try:
        protocol = configure(cfg, args, scope)
    except ValueError as e:  # an option the config cannot take
        sys.exit(f'error: {e}')
    setup_device(cfg)
    with process_group_closed_at_end():
        runner = build_runner(cfg)
        quiet_upstream_log(runner.logger)
        try:
            precision = set_test_precision(runner.model, scope, args.backend,
                                           args.precision)
        except ValueError as e:  # one the device lacks
            sys.exit(f'error: {e}')
        if args.out is not None and scope == 'mmdet':
            dump_detections(runner, args.out)
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
