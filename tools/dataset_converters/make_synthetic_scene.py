r"""Write a synthetic georeferenced scene pair (tiled GeoTIFFs, projected
CRS, irregular nodata footprints) and its change label, drawn with the
demo's synthetic change process (seg_plugins/utils/synthetic_scene.py).

    python tools/dataset_converters/make_synthetic_scene.py \
        --out data/synthetic_scene --size 3072
    # 4-band uint16 digital numbers (x40), 8192 x 8192:
    python tools/dataset_converters/make_synthetic_scene.py \
        --out data/scene_4b --size 8192 --bands 4 --dtype uint16
"""
import argparse
import time

from seg_plugins.utils.synthetic_scene import write_scene_pair


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/synthetic_scene',
                        help='output folder')
    parser.add_argument('--size', type=int, nargs='+', default=[3072],
                        help='N (square) or HEIGHT WIDTH in pixels')
    parser.add_argument('--bands', type=int, default=3)
    parser.add_argument('--dtype', choices=('uint8', 'uint16'),
                        default='uint8')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--crs', default='EPSG:32633',
                        help="projected CRS; 'none' writes no "
                        'georeferencing')
    parser.add_argument('--pixel-size', type=float, default=0.5,
                        help='ground sampling distance in CRS units')
    parser.add_argument('--dn-scale', type=float, default=40.0,
                        help='uint16 digital numbers per uint8 level')
    parser.add_argument('--no-nodata-border', action='store_true',
                        help='every pixel valid (no irregular footprint)')
    parser.add_argument('--b-shift', type=int, nargs=2, default=[0, 0],
                        metavar=('ROWS', 'COLS'),
                        help="move B's grid by this many pixels")
    parser.add_argument('--compress', default='deflate',
                        help="GeoTIFF compression, 'none' for none")
    parser.add_argument('--prefix', default='scene')
    return parser.parse_args()


def main():
    args = parse_args()
    if len(args.size) not in (1, 2):
        raise SystemExit('--size takes N or HEIGHT WIDTH')
    size = args.size * 2 if len(args.size) == 1 else args.size
    start = time.perf_counter()
    paths = write_scene_pair(
        args.out, size, bands=args.bands, dtype=args.dtype, seed=args.seed,
        crs=None if args.crs.lower() == 'none' else args.crs,
        pixel_size=args.pixel_size, nodata_border=not args.no_nodata_border,
        dn_scale=args.dn_scale, b_shift=tuple(args.b_shift),
        compress=None if args.compress.lower() == 'none' else args.compress,
        prefix=args.prefix)
    print(f'wrote a {size[0]}x{size[1]} {args.bands}-band {args.dtype} '
          f'scene pair in {time.perf_counter() - start:.1f} s:')
    for key, path in paths.items():
        print(f'  {key}: {path}')


if __name__ == '__main__':
    main()
