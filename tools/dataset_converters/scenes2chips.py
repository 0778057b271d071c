r"""Tile georeferenced scene pairs and their change labels into the LEVIR-CD
layout that BiTemporalChangeDataset reads::

    <out>/<split>/A/<name>.tif  <out>/<split>/B/<name>.tif
    <out>/<split>/label/<name>.tif     (0/1, nodata 255)

A change label is either a raster on A's grid (0/1 or 0/255, its nodata
ignored) or polygons of the changes (GeoPackage, GeoJSON, any OGR format;
reprojected to A's CRS and rasterised onto each chip's grid: a pixel is
changed when its centre lies in a polygon). GeoTIFF chips keep every band,
the dtype (uint16 stays uint16), nodata and the georeferencing of their
window; PNG chips (``--format png``, 3-band uint8 scenes only) are plain
LEVIR files with 0/255 labels. Pixels that are nodata in either date (or in
the label raster) are labelled 255 (ignored by training and metrics) in
GeoTIFF chips; PNG has no nodata, so there they are labelled unchanged
(0), their values are 0, and their count is reported. Chips with more
than ``--max-nodata`` of such pixels are skipped and counted.

Splits: a scene given a split (``--scene A B LABEL test``) sends all its
chips there; the chips of the other scenes are shuffled (``--seed``) and
``--val-fraction`` / ``--test-fraction`` of them go to val / test, the rest
to train. Neighbouring chips look alike: for an honest score hold out whole
scenes.

    python tools/dataset_converters/scenes2chips.py \
        --scene data/scene/scene_A.tif data/scene/scene_B.tif \
                data/scene/scene_label.tif \
        --out data/scene_chips --size 256 --val-fraction 0.1
    # polygons as the label, a second scene held out for testing:
    python tools/dataset_converters/scenes2chips.py \
        --scene 2019.tif 2023.tif changes.gpkg \
        --scene east_2019.tif east_2023.tif east_changes.gpkg test \
        --out data/chips
"""
import argparse

from seg_plugins.geo.bands import parse_bands
from seg_plugins.geo.chips import ChipOptions
from seg_plugins.geo.chips_dataset import SPLITS, write_chip_dataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--scene', nargs='+', action='append', required=True,
        metavar='A B LABEL [SPLIT]',
        help='two dates and their change label (raster on A\'s grid, or '
        'polygons: .gpkg/.geojson/...), optionally the split of every chip '
        'of this scene; repeat for more scenes. Any GDAL-readable location '
        '(https://, s3://, /vsi*/); a date as band files: '
        'B04.tif,B03.tif,B02.tif or a .txt list (stacked on the first\'s '
        'grid, bilinear)')
    parser.add_argument('--out', required=True, help='output folder (new '
                        'or empty)')
    parser.add_argument('--size', type=int, default=256,
                        help='chip size in pixels')
    parser.add_argument('--stride', type=int, default=None,
                        help='step between chips (default: --size, no '
                        'overlap); the last row/column of chips is aligned '
                        'to the scene edge')
    parser.add_argument('--format', choices=('tif', 'png'), default='tif')
    parser.add_argument('--bands', default=None,
                        help='1-based bands of A and B, e.g. 1,2,3 '
                        '(default: all)')
    parser.add_argument('--max-nodata', type=float, default=0.5,
                        help='skip chips with more than this fraction of '
                        'pixels nodata in A, B or the label')
    parser.add_argument('--val-fraction', type=float, default=0.1)
    parser.add_argument('--test-fraction', type=float, default=0.0)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for scene in args.scene:
        if len(scene) not in (3, 4) or (len(scene) == 4
                                        and scene[3] not in SPLITS):
            parser.error(f'--scene {" ".join(scene)}: expected A B LABEL '
                         f'and optionally one of {SPLITS}')
    if not 0 <= args.val_fraction + args.test_fraction < 1:
        parser.error('--val-fraction + --test-fraction must be in [0, 1)')
    args.stride = args.stride or args.size
    if args.size < 1 or args.stride < 1:
        parser.error('--size and --stride must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        options = ChipOptions(args.size, args.stride, args.format,
                              parse_bands(args.bands), args.max_nodata)
        report = write_chip_dataset(args.scene, args.out, options,
                                    args.val_fraction, args.test_fraction,
                                    args.seed)
    except ValueError as e:  # ChipError, GridMismatchError, open errors
        raise SystemExit(f'error: {e}') from None
    print('\n'.join(report.lines()))
    if not report.splits:
        raise SystemExit('error: no chip kept (every chip is mostly nodata; '
                         'see --max-nodata)')


if __name__ == '__main__':
    main()
