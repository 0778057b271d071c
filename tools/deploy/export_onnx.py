r"""Export an mmseg config's model to ONNX (normalised input -> probabilities).

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT OUT.onnx \
        [--shape H W] [--dynamic] [--batch-size N] [--cfg-options k=v ...]

CHECKPOINT may be ``none`` for random weights (to try an export). The
preprocessing the graph expects (mean/std, BGR->RGB, images per sample,
size divisor) is stored in the file's metadata; ``--dynamic`` makes batch,
height and width dynamic (sizes stay multiples of the stored divisor). The
export is then checked: ONNX Runtime's output is compared with PyTorch's on
a random input (and, with ``--dynamic``, at a second size).
"""
import argparse
import json
import sys

from mmengine.config import DictAction

import seg_plugins  # noqa: F401  (registers components, torch compat)
from seg_plugins.deploy import ExportError, export_model, load_model
from seg_plugins.deploy.verify import verify_export
from seg_plugins.utils.quiet_upstream import quiet_upstream


def parse_args():
    parser = argparse.ArgumentParser(description='Export to ONNX')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a .pth file, or 'none'")
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="traced input size (default: the config's "
                        'crop_size, else 256 256)')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='traced batch size (fixed without --dynamic)')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the ONNX Runtime vs PyTorch check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args()


def main():
    quiet_upstream()
    args = parse_args()
    checkpoint = None if args.checkpoint.lower() == 'none' else \
        args.checkpoint
    try:
        cfg, model, classes = load_model(args.config, checkpoint,
                                         args.cfg_options)
        meta = export_model(cfg, model, args.out, args.shape, args.dynamic,
                            args.batch_size, classes)
    except (ExportError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    print(f'wrote {args.out}')
    for key, value in sorted(meta.items()):
        if not key.endswith('_doc'):
            print(f'  {key} = {value}')
    if not args.no_verify:
        report = verify_export(model, args.out)
        print('check:', json.dumps(report))
        if not report['ok']:
            sys.exit('error: ONNX Runtime and PyTorch disagree (see check)')


if __name__ == '__main__':
    main()
