r"""Write a deterministic synthetic change-detection dataset (LEVIR-CD
layout: <split>/A, <split>/B, <split>/label with 0/255 labels).

``--preset demo`` (64x64 pairs) is the set configs/changedet_demo.py trains
on; ``--preset hard`` (256x256 pairs: small buildings, ~5 % changed pixels,
seasonal and illumination changes that are not change, 1-2 px
misregistration of B) is the one tools/analysis/benchmark_models.py tells
models apart on.

    python tools/dataset_converters/make_synthetic_cd.py \
        --out data/synthetic_cd
    python tools/dataset_converters/make_synthetic_cd.py --preset hard \
        --out data/synthetic_cd_hard
"""
import argparse

from seg_plugins.utils.synthetic import (
    CHANGE_PRESETS,
    CHANGE_SPLITS,
    make_change_dataset,
)

DEFAULT_SIZE = {'demo': 64, 'hard': 256}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/synthetic_cd')
    parser.add_argument('--preset', choices=CHANGE_PRESETS, default='demo')
    parser.add_argument(
        '--size', type=int, help='side of a pair (default: 64 for demo, '
        '256 for hard)')
    parser.add_argument('--seed', type=int, default=0)
    for split, num in CHANGE_SPLITS.items():
        parser.add_argument(f'--num-{split}', type=int, default=num)
    args = parser.parse_args()
    size = args.size or DEFAULT_SIZE[args.preset]
    splits = {s: getattr(args, f'num_{s}') for s in CHANGE_SPLITS}
    make_change_dataset(args.out, splits, size, args.seed, args.preset)
    print(f'wrote {splits} {args.preset} pairs of {size}x{size} to '
          f'{args.out}')


if __name__ == '__main__':
    main()
