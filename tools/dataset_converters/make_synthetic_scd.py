r"""Write a deterministic synthetic semantic change set in SECOND's layout
(<split>/im1, im2, label1, label2; labels in SECOND's RGB colours), the set
configs/scd_demo.py trains on.

    python tools/dataset_converters/make_synthetic_scd.py \
        --out data/synthetic_scd
"""
import argparse

from seg_plugins.datasets.synthetic_scd import SCD_SPLITS, make_scd_dataset


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/synthetic_scd')
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    for split, count in SCD_SPLITS.items():
        parser.add_argument(f'--num-{split}', type=int, default=count)
    args = parser.parse_args()
    splits = {s: getattr(args, f'num_{s}') for s in SCD_SPLITS}
    make_scd_dataset(args.out, splits, args.size, args.seed)
    print(f'wrote {splits} pairs of {args.size}x{args.size} to {args.out}')


if __name__ == '__main__':
    main()
