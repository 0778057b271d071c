"""Write the tiny synthetic shapes dataset of configs/unet_strided_demo.py.

    python tools/dataset_converters/make_shapes_dataset.py --out data/shapes
"""
import argparse

from seg_plugins.utils.synthetic import make_shapes_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='data/shapes')
    parser.add_argument('--num-train', type=int, default=32)
    parser.add_argument('--num-val', type=int, default=8)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    make_shapes_dataset(args.out, {'train': args.num_train,
                                   'val': args.num_val}, args.size, args.seed)
    print(f'wrote {args.num_train} train and {args.num_val} val samples to '
          f'{args.out}')


if __name__ == '__main__':
    main()
