r"""Change map of an image pair, or of many pairs, of any size.

Georeferenced scenes (GeoTIFF or any GDAL-readable raster), streamed tile
by tile into Cloud-Optimised GeoTIFFs on A's grid:

    python tools/infer.py A.tif B.tif --config CONFIG --checkpoint CKPT \
        --out change.tif [--prob prob.tif] [--polygons changes.gpkg \
        --min-area 50] [--quicklook quicklook.png] [--label label.tif] \
        [--bands 1,2,3] [--align] [--overwrite | --resume]

PNG pairs (no georeferencing), held in memory, when --out is a PNG:

    python tools/infer.py A.png B.png --config CONFIG --checkpoint CKPT \
        --out change.png [--overlay overlay.png] [--prob prob.png]

A and B may be anywhere GDAL reads: local paths, https:// URLs (COGs
served with range requests), s3://, gs://, az:// or /vsi*/ names
(credentials and endpoints from the environment, as GDAL takes them). A
date given as several single-band files is stacked on the grid of the
first (other resolutions resampled, bilinear): B04.tif,B03.tif,B02.tif or
a .txt list with a file a line.

Many pairs: --pairs list.txt with lines "A B OUT" (OUT a .tif); --prob,
--polygons and --quicklook then give suffixes appended to each OUT's stem
(e.g. --polygons .gpkg --prob _prob.tif). A pair that fails is reported by
name and the others still run; the exit status is non-zero at the end.
Over several processes: bash tools/dist_infer.sh list.txt N [args...].
After a crash or a kill, rerun the same command with --resume: the pairs
finished before are skipped, a scene that was stopped continues from its
last saved progress (--checkpoint-seconds), a pair stopped while making
its polygons or quicklook gets them from its change map, the rest are
done. SIGTERM (a cluster's time limit) or Ctrl-C stops a scene run
gracefully: the tiles the model has finished are written, the progress is
saved and the exit code is 75, as training's; a second signal ends it at
once.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np

from seg_plugins.apis import (
    SceneStopped,
    infer_change,
    infer_change_scene,
    init_change_model,
)
from seg_plugins.geo import parse_bands
from seg_plugins.geo.band_stack import date_files
from seg_plugins.geo.cog import check_outputs, remove_partials
from seg_plugins.geo.radiometry import METHODS as RADIOMETRIC_METHODS
from seg_plugins.geo.remote import exists, path_key
from seg_plugins.utils.image_io import read_image
from seg_plugins.utils.malloc import keep_freed_memory
from seg_plugins.utils.precision import (
    check_backend_precision,
    resolve_precision,
)
from seg_plugins.utils.preemption import Preempted, StopSignal
from seg_plugins.utils.progress import Progress
from seg_plugins.utils.quiet_upstream import quiet_upstream

PNG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')
SCENE_ONLY = ('polygons', 'quicklook', 'label', 'bands', 'align',
              'resume', 'radiometric')


def overlay(img_b: np.ndarray, change: np.ndarray,
            alpha: float = 0.5) -> np.ndarray:
    """Image B (BGR) with changed pixels blended towards red."""
    out = img_b[..., :3].astype(np.float32).copy()
    red = np.array([0, 0, 255], np.float32)
    mask = change.astype(bool)
    out[mask] = (1 - alpha) * out[mask] + alpha * red
    return out.astype(np.uint8)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
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
    parser.add_argument('--stac', action='store_true',
                        help='A and B are STAC items (files or URLs); '
                        '--assets picks their bands')
    parser.add_argument('--assets', help='with --stac: asset keys, band '
                        'names or common names, e.g. red,green,blue,nir')
    parser.add_argument('--mask-classes', default='0,1,3,8,9,10',
                        help='with --stac: classes of the item\'s scene '
                        'classification (Sentinel-2 SCL) taken as nodata '
                        '(default: no data, saturated, cloud shadow, '
                        'clouds, cirrus); none: no mask')
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
    args = parser.parse_args(argv)
    if bool(args.pairs) == bool(args.img_a or args.img_b or args.out):
        parser.error('give either A B --out OUT, or --pairs LIST')
    if not args.pairs and not (args.img_a and args.img_b and args.out):
        parser.error('need A, B and --out')
    if args.out and args.out.lower().endswith(PNG_SUFFIXES):
        used = [f'--{k.replace("_", "-")}' for k in SCENE_ONLY
                if getattr(args, k)]
        if used:
            parser.error(f'{" ".join(used)} need a GeoTIFF output '
                         '(--out change.tif)')
    elif args.overlay:
        parser.error('--overlay is for PNG outputs; use --quicklook')
    if args.resume and args.overwrite:
        parser.error('--resume and --overwrite exclude each other')
    if args.stac and (args.pairs or not args.assets):
        parser.error('--stac takes two items A B (not --pairs) and needs '
                     '--assets')
    try:
        args.bands = parse_bands(args.bands)
    except ValueError as e:
        parser.error(str(e))
    return args


def build_model(args):
    device = args.device
    if device.startswith('cuda') and 'LOCAL_RANK' in os.environ:
        device = f'cuda:{os.environ["LOCAL_RANK"]}'
    try:  # a precision the backend or the device lacks
        check_backend_precision(args.backend, args.precision)
        resolve_precision(args.precision, device)
    except ValueError as e:
        sys.exit(f'error: --precision: {e}')
    return init_change_model(args.config, args.checkpoint, device,
                             backend=args.backend, precision=args.precision)


def infer_png(model, args) -> None:
    """The in-memory path for PNG pairs (no georeferencing)."""
    check_outputs((args.out, args.prob, args.overlay), args.overwrite,
                  (args.img_a, args.img_b))
    img_b = read_image(args.img_b, 'color')
    change, prob = infer_change(model, args.img_a, img_b, args.tile,
                                args.overlap, args.batch_size)
    mmcv.imwrite(change * 255, args.out)
    if args.prob:
        mmcv.imwrite(prob, args.prob)
    if args.overlay:
        mmcv.imwrite(overlay(img_b, change), args.overlay)
    print(f'{args.out}: {int(change.sum())} of {change.size} pixels changed '
          f'({100 * change.mean():.2f}%)')


def describe(summary: dict) -> str:
    """The closing summary line of one pair."""
    text = (f'{summary["change"]}: {summary["changed_pixels"]} of '
            f'{summary["valid_pixels"]} valid pixels changed '
            f'({summary["changed_percent"]:.2f}%)')
    if summary['changed_area_m2'] is not None:
        text += f', {summary["changed_area_m2"]:.1f} m^2'
    elif not summary['georeferenced']:
        text += ' (no CRS: written without georeferencing, no area)'
    else:
        text += f' (no area: {summary["crs"]} cannot be placed on Earth)'
    text += (f'; {summary["tiles_run"]} tiles run, '
             f'{summary["tiles_skipped"]} skipped (nodata), '
             f'{summary["seconds"]:.1f} s')
    if summary['tiles_resumed']:
        text += f' ({summary["tiles_resumed"]} of them by the run resumed)'
    if summary['polygons']:
        text += f'\n  {summary["polygons"]}: {summary["regions"]} regions'
    return text


def overwrite_or_skip(args, outputs: Sequence[Optional[str]],
                      where: str) -> Optional[bool]:
    """Whether to replace existing ``outputs`` (change map, probability,
    polygons, quicklook; None where not asked for); None to skip the pair
    (``--resume`` and every output there)."""
    if not args.resume:
        return args.overwrite
    wanted = [p for p in outputs if p]
    there = [p for p in wanted if osp.exists(p)]
    if len(there) == len(wanted):
        # Raw files beside finished outputs: a run killed in its last
        # cleanup, or an --overwrite run killed that --resume cannot take
        # up (it skips this pair): of no use, and a byte a pixel each.
        left = [f for p in outputs[:2] if p  # the COGs: change, prob
                for f in remove_partials(p)]
        print(f'[skip] {where}: done before, its outputs exist '
              f'({", ".join(wanted)})' + (
                  f'; removed what a stopped run left: {", ".join(left)}'
                  if left else ''))
        return None
    if there:
        missing = [p for p in wanted if p not in there]
        print(f'[redo] {where}: {", ".join(missing)} missing, so '
              f'{", ".join(there)} are made again')
    return bool(there)


def infer_scene(model, args, img_a, img_b, out, prob=None, polygons=None,
                quicklook=None, where=None,
                stop: Optional[StopSignal] = None) -> Optional[dict]:
    """One scene pair through ``infer_change_scene``; its summary, None
    when skipped (``--resume``), {} when only its polygons or quicklook
    were left to make (``finish``). Stopped gracefully once ``stop`` has
    caught a signal (``SceneStopped``, exit code 75)."""
    outputs = (out, prob, polygons, quicklook)
    # An output that is an input is refused before --resume can take it
    # for a finished one.
    check_outputs(outputs, True, (img_a, img_b, args.label))
    if (args.resume and all(osp.exists(p) for p in (out, prob) if p)
            and not all(osp.exists(p) for p in outputs if p)):
        return finish(args, out, polygons, quicklook, img_b, where)
    overwrite = overwrite_or_skip(args, outputs, where or out)
    if overwrite is None:
        return None
    check_outputs(outputs, overwrite)
    bar = None

    def start(tiles: int, done: int) -> None:
        nonlocal bar
        if done:
            print(f'[resume] {where or out}: {done} of {tiles} tiles done '
                  'before, going on')
        bar = Progress(tiles - done, 'tiles')

    try:
        summary = infer_change_scene(
            model, img_a, img_b, out, prob_out=prob, tile=args.tile,
            overlap=args.overlap, batch_size=args.batch_size,
            bands=args.bands, align=args.align, overwrite=overwrite,
            polygons=polygons, min_area=args.min_area,
            progress=lambda n: bar.update(n), resume=args.resume,
            checkpoint_seconds=args.checkpoint_seconds, on_start=start,
            should_stop=stop and (lambda: stop.received is not None),
            radiometric=args.radiometric or 'none')
    except SceneStopped as e:
        if bar is not None:
            bar.close()
        stopped(where or out, stop, f'{e.done} of {e.tiles} tiles saved in '
                f'{e.out}.partial*' if e.done else
                'no tile finished, nothing saved')
        raise
    bar.close()
    print(describe(summary))
    quicklook_and_scores(args, out, quicklook, img_b)
    return summary


def finish(args, out, polygons, quicklook, img_b, where) -> dict:
    """``--resume`` where a run made the change map (and probabilities)
    and was stopped while making its polygons or quicklook: those are made
    from the change map, without running the scene again (at scene scale
    that run is hours on a CPU). Returns {} (no inference summary)."""
    missing = [p for p in (polygons, quicklook) if p and not osp.exists(p)]
    print(f'[finish] {where or out}: {out} done before; making '
          f'{", ".join(missing)} from it')
    if polygons in missing:
        from seg_plugins.geo.polygons import write_polygons
        regions = write_polygons(out, polygons, args.min_area)
        print(f'  {polygons}: {regions} regions')
    quicklook_and_scores(args, out,
                         quicklook if quicklook in missing else None, img_b)
    return {}


def quicklook_and_scores(args, out, quicklook, img_b) -> None:
    """The quicklook, and the scores against ``--label``, of a change
    map."""
    from seg_plugins.geo.compare import score_change
    from seg_plugins.geo.quicklook import write_quicklook
    if quicklook:
        write_quicklook(out, quicklook, image_path=img_b)
        print(f'  quicklook: {quicklook}')
    if args.label:
        s = score_change(out, args.label)
        print(f'  vs {args.label}: F1 {s["f1"]:.2f} precision '
              f'{s["precision"]:.2f} recall {s["recall"]:.2f} IoU '
              f'{s["iou"]:.2f} (tp {s["tp"]} fp {s["fp"]} fn {s["fn"]})')


def stopped(where: str, stop: StopSignal, what: str) -> None:
    """The line that says a run stopped on a signal, and how to go on."""
    print(f'[stopped] {where}: {stop.received}; {what}; rerun the same '
          'command with --resume to go on (exit code '
          f'{Preempted().code})', file=sys.stderr)


def read_pairs(path: str) -> List[Tuple[int, List[str]]]:
    """(line number, fields) of each non-blank, non-comment line."""
    with open(path) as f:
        return [(i, line.split()) for i, line in enumerate(f, 1)
                if line.strip() and not line.lstrip().startswith('#')]


def derived(out: str, suffix: Optional[str]) -> Optional[str]:
    """OUT's stem + ``suffix`` (for --pairs)."""
    return suffix and osp.splitext(out)[0] + suffix


def line_outputs(out: str, args) -> Tuple[Optional[str], ...]:
    """A --pairs line's outputs: OUT, then its probability, polygons and
    quicklook (None where not asked for)."""
    return (out, derived(out, args.prob), derived(out, args.polygons),
            derived(out, args.quicklook))


def list_clashes(lines, args) -> Dict[int, str]:
    """Lines of the whole list (every rank finds the same) whose outputs
    are an earlier line's outputs or any other line's input: run, two
    ranks would write one file at once, or one read a file another
    writes. The first line to name an output keeps it."""
    inputs, outputs, clashes = {}, {}, {}
    pairs = [(n, f) for n, f in lines if len(f) == 3]
    for number, (img_a, img_b, _) in pairs:
        for path in date_files(img_a) + date_files(img_b):
            inputs.setdefault(path_key(path), set()).add(number)
    for number, (_, _, out) in pairs:
        for path in line_outputs(out, args):
            key = path and path_key(path)
            if not key:
                continue
            readers = sorted(inputs.get(key, set()) - {number})
            if readers:
                clashes[number] = (f'output {path} is an input on line '
                                   f'{readers[0]}')
            elif outputs.setdefault(key, number) != number:
                clashes[number] = (f'output {path} is also written by line '
                                   f'{outputs[key]}')
            if number in clashes:
                break
    return clashes


def run_pairs(model, args, stop: Optional[StopSignal] = None) -> int:
    """Every pair of this rank's share; returns the number that failed.
    Once ``stop`` has caught a signal, no further pair is started
    (``Preempted``, exit code 75)."""
    rank = int(os.environ.get('RANK', 0)) if args.launcher != 'none' else 0
    world = (int(os.environ.get('WORLD_SIZE', 1))
             if args.launcher != 'none' else 1)
    every = read_pairs(args.pairs)
    clashes = list_clashes(every, args)
    # Shares by line, whatever is done: on a rerun no pair changes rank.
    lines = every[rank::world]
    failed = skipped = 0
    for number, fields in lines:
        where = f'{args.pairs}:{number}'
        if stop is not None and stop.received:
            stopped(where, stop,
                    "this line and this rank's later ones not started")
            raise Preempted()
        if len(fields) != 3 or number in clashes:
            print(f'[error] {where}: ' + clashes.get(
                number, f'expected "A B OUT", got {" ".join(fields)!r}'),
                file=sys.stderr)
            failed += 1
            continue
        img_a, img_b, out = fields
        missing = [p for p in date_files(img_a) + date_files(img_b)
                   if not exists(p)]
        if missing:
            print(f'[error] {where}: {", ".join(missing)} not found',
                  file=sys.stderr)
            failed += 1
            continue
        try:
            skipped += infer_scene(
                model, args, img_a, img_b, *line_outputs(out, args),
                where=where, stop=stop) is None
        except (ValueError, OSError) as e:  # OSError: writing, e.g.
            print(f'[error] {where}: {e}', file=sys.stderr)  # disk full
            failed += 1
    before = f' ({skipped} done before)' if skipped else ''
    print(f'rank {rank}/{world}: {len(lines) - failed} of {len(lines)} '
          f'pairs done{before} in {time.perf_counter() - START:.1f} s')
    return failed


def stac_dates(args) -> tuple:
    """Dates A and B of the STAC items given (``geo/stac.py``); says how
    much of each its classification masks."""
    from seg_plugins.geo.stac import masked_share, stac_pair
    classes = ([] if args.mask_classes == 'none' else
               [int(c) for c in args.mask_classes.split(',')])
    dates = stac_pair(args.img_a, args.img_b, args.assets.split(','),
                      classes)
    for name, date in zip('AB', dates):
        if date.mask:
            print(f'{name}: {100 * masked_share(date):.1f}% masked by '
                  f'classes {args.mask_classes} of {date.mask[0]}')
    return dates


START = time.perf_counter()


def main(argv=None):
    quiet_upstream()
    args = parse_args(argv)
    applied = args.reuse_memory is not False and keep_freed_memory()
    if args.reuse_memory and not applied:
        print('[warning] --reuse-memory not applied: no glibc, or a '
              'MALLOC_* tunable is set in the environment', file=sys.stderr)
    model = build_model(args)
    png = not args.pairs and args.out.lower().endswith(PNG_SUFFIXES)
    stop = None
    if not png:  # a PNG pair is held in memory: nothing to save on a signal
        stop = StopSignal(notice='\n[signal] {signal}: stopping at the '
                          'next tile, or after the COGs or polygons being '
                          'made; a second signal ends it at once\n')
        stop.armed = True
    if args.pairs:
        failed = run_pairs(model, args, stop)
        if failed:
            sys.exit(f'{failed} pair(s) failed, see the [error] lines')
        return
    try:
        if png:
            infer_png(model, args)
        else:
            dates = (stac_dates(args) if args.stac else
                     (args.img_a, args.img_b))
            infer_scene(model, args, *dates, args.out,
                        args.prob, args.polygons, args.quicklook, stop=stop)
    except (ValueError, OSError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
