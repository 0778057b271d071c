"""The command line of ``tools/infer.py``: its options, in groups, and the
checks between them.

One function adds each group, so that an option goes in beside the ones it
works with (e.g. another way to name the dates in
:func:`add_remote_args`). :func:`stac_dates` turns the STAC options into
the dates of a scene pair.
"""
import argparse
from typing import Sequence, Tuple

from ..geo import parse_bands
from ..geo.radiometry import METHODS as RADIOMETRIC_METHODS

PNG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')
# Options a PNG pair (held in memory, no georeferencing) cannot take.
SCENE_ONLY = ('aoi', 'polygons', 'quicklook', 'label', 'bands', 'align',
              'resume', 'radiometric')


def add_io_args(parser: argparse.ArgumentParser) -> None:
    """The dates, the model, and what is written."""
    parser.add_argument('img_a', nargs='?')
    parser.add_argument('img_b', nargs='?')
    parser.add_argument('--config', required=True)
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--out', help='change map: .tif (COG) or .png')
    parser.add_argument('--pairs', help='list of "A B OUT" lines')
    parser.add_argument('--prob', help='change probability (0-255)')
    parser.add_argument('--overlay', help='PNG pairs: overlay on image B')
    parser.add_argument('--polygons', help='change regions, .gpkg/.geojson')
    parser.add_argument('--min-area', type=float, default=0.0,
                        help='smallest region kept, m^2 on the ground '
                        '(pixels without a CRS)')
    parser.add_argument('--quicklook', help='small overlay PNG of the '
                        'result, read from the COG overviews')
    parser.add_argument('--label', help='reference change raster on A\'s '
                        'grid: prints F1 / precision / recall')


def add_scene_args(parser: argparse.ArgumentParser) -> None:
    """How a scene's dates are read: bands, grid, radiometry."""
    parser.add_argument('--bands', help='1-based bands of both dates, '
                        'e.g. 1,2,3 (default: all)')
    parser.add_argument('--align', action='store_true',
                        help='resample B onto A\'s grid (bilinear)')
    parser.add_argument('--radiometric', choices=RADIOMETRIC_METHODS,
                        help='relative radiometric normalisation before the '
                        'model, with statistics of the whole scene: none '
                        '(the default), standardize (each date by its own '
                        'per-band statistics) or match (B\'s histograms '
                        'onto A\'s); docs/en/user_guides/radiometry.md')


def add_remote_args(parser: argparse.ArgumentParser) -> None:
    """Dates named by catalogue entries (STAC items) instead of files."""
    parser.add_argument('--stac', action='store_true',
                        help='A and B are STAC items (files or URLs); '
                        '--assets picks their bands')
    parser.add_argument('--assets', help='with --stac: asset keys, band '
                        'names or common names, e.g. red,green,blue,nir')
    parser.add_argument('--mask-classes', default='default',
                        help='with --stac: classes of the item\'s cloud '
                        'classification (Sentinel-2 SCL: classes, Landsat '
                        'QA_PIXEL: bits) taken as nodata, by name or code: '
                        'nodata, saturated, cloud_shadow, cloud, cirrus, '
                        'dilated_cloud (the default), snow, water, ...; '
                        'none: no mask')
    parser.add_argument('--apply-scale', default=None,
                        action=argparse.BooleanOptionalAction,
                        help='with --stac: read the bands as reflectance, '
                        'v * scale + offset of the items\' raster:bands '
                        '(default: when the config sets input_units = '
                        '\'reflectance\')')
    parser.add_argument('--aoi', help='vector file (any CRS; path or URL): '
                        'run only on the window of A\'s grid that covers '
                        'its features')


def add_resume_args(parser: argparse.ArgumentParser) -> None:
    """What happens to outputs that exist, and to a stopped run."""
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing outputs')
    parser.add_argument('--resume', action='store_true',
                        help='after a crash: skip a pair whose outputs all '
                        'exist (each is published under its name only once '
                        'complete, so they are a finished run\'s), redo one '
                        'with some missing, and continue a scene that was '
                        'stopped from its last saved progress')
    parser.add_argument('--checkpoint-seconds', type=float, default=60.0,
                        help='how often a scene\'s progress is saved for '
                        '--resume: at most what a kill loses (default 60)')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """Tiling, device, backend, precision and launcher."""
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--reuse-memory', default=None,
                        action=argparse.BooleanOptionalAction,
                        help='keep freed memory for reuse (glibc; the '
                        'default): no page faults in each CPU forward pass; '
                        'memory stays at its high-water mark, which does '
                        'not grow with the scene (seg_plugins/utils/'
                        'malloc.py). Without glibc, or with a MALLOC_* '
                        'tunable set, not applied (said only when asked '
                        'for with --reuse-memory)')
    parser.add_argument('--backend', default='pytorch',
                        choices=['pytorch', 'onnxruntime', 'openvino'],
                        help='onnxruntime, openvino: --checkpoint is the '
                        '.onnx file exported by tools/deploy/export_onnx.py')
    parser.add_argument('--precision', default='fp32',
                        choices=['fp32', 'bf16', 'fp16', 'auto'],
                        help='the dtype the network computes in (pytorch, '
                        'openvino; logits back in fp32); auto: bf16 where '
                        'the hardware has it natively')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch'],
                        help='pytorch: one share of --pairs per rank '
                        '(torchrun, tools/dist_infer.sh)')


def infer_parser(description: str) -> argparse.ArgumentParser:
    """``tools/infer.py``'s parser, ``description`` shown as written."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawTextHelpFormatter)
    for add in (add_io_args, add_scene_args, add_remote_args,
                add_resume_args, add_run_args):
        add(parser)
    return parser


def is_png(out: str) -> bool:
    """Whether ``out`` names a PNG-pair output (held in memory)."""
    return out.lower().endswith(PNG_SUFFIXES)


def check_infer_args(parser: argparse.ArgumentParser,
                     args: argparse.Namespace) -> argparse.Namespace:
    """The checks between options that argparse cannot make; a failed one
    ends the program with the parser's usage and one ``error:`` line.

    Returns:
        argparse.Namespace: ``args``, ``bands`` parsed into a list of
        1-based band numbers (None: all).
    """
    if bool(args.pairs) == bool(args.img_a or args.img_b or args.out):
        parser.error('give either A B --out OUT, or --pairs LIST')
    if not args.pairs and not (args.img_a and args.img_b and args.out):
        parser.error('need A, B and --out')
    if args.out and is_png(args.out):
        used = [f'--{k.replace("_", "-")}' for k in SCENE_ONLY
                if getattr(args, k)]
        if used:
            parser.error(f'{" ".join(used)} need a GeoTIFF output '
                         '(--out change.tif)')
    elif args.overlay:
        parser.error('--overlay is for PNG outputs; use --quicklook')
    if args.resume and args.overwrite:
        parser.error('--resume and --overwrite exclude each other')
    if args.aoi and args.pairs:
        parser.error('--aoi takes A B (not --pairs)')
    if args.stac and (args.pairs or not args.assets):
        parser.error('--stac takes two items A B (not --pairs) and needs '
                     '--assets')
    try:
        args.bands = parse_bands(args.bands)
    except ValueError as e:
        parser.error(str(e))
    return args


def stac_dates(img_a: str, img_b: str, assets: Sequence[str],
               mask_classes: str, scale: bool = False) -> Tuple:
    """Dates A and B of two STAC items (``geo/stac.py``); prints how much
    of each date its cloud classification masks, and the scales applied.

    Args:
        img_a (str): Item of date A, a file or URL.
        img_b (str): Item of date B.
        assets (Sequence[str]): Asset keys, band names or common names.
        mask_classes (str): ``--mask-classes``: names or codes, 'default'
            or 'none'.
        scale (bool): Read the bands as ``v * scale + offset``.

    Returns:
        tuple[StacDate, StacDate]: Dates as ``infer_change_scene`` takes
        them.
    """
    from ..geo.stac import (
        describe_scales,
        masked_share,
        parse_mask_classes,
        stac_pair,
    )
    dates = stac_pair(img_a, img_b, assets,
                      parse_mask_classes(mask_classes), scale)
    for name, date in zip('AB', dates):
        if date.mask:
            print(f'{name}: {100 * masked_share(date):.1f}% masked by '
                  f'{date.mask.describe()} of {date.mask.file}')
        if date.scales:
            print(f'{name}: read as reflectance, {describe_scales(date)}')
    return dates
