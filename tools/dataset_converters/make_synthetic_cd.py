r"""Write the deterministic synthetic change-detection dataset (LEVIR-CD
layout: <split>/A, <split>/B, <split>/label with 0/255 labels) used by
configs/changedet_demo.py.

    python tools/dataset_converters/make_synthetic_cd.py \
        --out data/synthetic_cd
"""
import argparse

from seg_plugins.utils.synthetic import CHANGE_SPLITS, make_change_dataset


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/synthetic_cd')
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    for split, num in CHANGE_SPLITS.items():
        parser.add_argument(f'--num-{split}', type=int, default=num)
    args = parser.parse_args()
    splits = {s: getattr(args, f'num_{s}') for s in CHANGE_SPLITS}
    make_change_dataset(args.out, splits, args.size, args.seed)
    print(f'wrote {splits} pairs of {args.size}x{args.size} to {args.out}')


if __name__ == '__main__':
    main()
