r"""Parameters and MACs of a config's model at one input size.

    python tools/analysis/model_complexity.py CONFIG [--shape 256 256] \
        [--cfg-options key=value ...]

For a change model the shape is that of one date (MACs of one pair). MACs
are those of the inference forward (backbone, neck, decode head) in
mmengine's ``FlopAnalyzer`` convention (convs and matmuls, norms,
interpolation: see seg_plugins/utils/complexity.py), counted on the meta
device in milliseconds; parameters include an auxiliary head if the config
has one. Importable::

    from seg_plugins.utils.complexity import complexity
    params, macs = complexity('configs/changedet_unet.py', (256, 256))
"""
import argparse

from seg_plugins.utils.complexity import complexity

__all__ = ['complexity']


def main():
    from mmengine.config import Config, DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256],
                        metavar=('H', 'W'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    params, macs = complexity(cfg, args.shape)
    h, w = args.shape
    print(f'config: {args.config}')
    print(f'input:  {h}x{w} (one image per date)')
    print(f'params: {params:,} ({params / 1e6:.3f} M)')
    print(f'MACs:   {macs:,} ({macs / 1e9:.3f} G)')


if __name__ == '__main__':
    main()
