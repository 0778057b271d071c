r"""Change map of an image pair, or of many pairs, of any size.

Georeferenced scenes (GeoTIFF or any GDAL-readable raster), streamed tile
by tile into Cloud-Optimised GeoTIFFs on A's grid:

    python tools/infer.py A.tif B.tif --config CONFIG --checkpoint CKPT \
        --out change.tif [--prob prob.tif] [--polygons changes.gpkg \
        --min-area 50] [--quicklook quicklook.png] [--label label.tif] \
        [--bands 1,2,3] [--align] [--overwrite | --resume]

With a semantic change config (configs/scd_*.py) a scene also gets its
from-class and to-class COGs (OUT's stem + _from / _to, coloured by class)
and the from-to area table (stem + _areas.csv); its polygons carry from
and to classes and its quicklook shows the to-class colours. A PNG pair
gets the change map only.

PNG pairs (no georeferencing), held in memory, when --out is a PNG:

    python tools/infer.py A.png B.png --config CONFIG --checkpoint CKPT \
        --out change.png [--overlay overlay.png] [--prob prob.png]

A and B may be anywhere GDAL reads: local paths, https:// URLs (COGs
served with range requests), s3://, gs://, az:// or /vsi*/ names
(credentials and endpoints from the environment, as GDAL takes them). A
date given as several single-band files is stacked on the grid of the
first (other resolutions resampled, bilinear): B04.tif,B03.tif,B02.tif or
a .txt list with a file a line. --stac A B --assets red,green,blue: STAC
items as the dates, their cloud classification (Sentinel-2 SCL, Landsat
QA_PIXEL) as nodata (--mask-classes), read as reflectance (scale/offset)
when the config sets input_units = 'reflectance' (--apply-scale to
force). --aoi aoi.geojson (any CRS) runs only on the window of A's grid
that covers it.

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
import os
import sys
import time

from seg_plugins.apis import init_change_model
from seg_plugins.apis.batch import (
    InferSettings,
    OutputPaths,
    SceneBatch,
    rank_and_world,
)
from seg_plugins.apis.infer_args import (
    check_infer_args,
    infer_parser,
    is_png,
    stac_dates,
)
from seg_plugins.apis.png_pair import infer_png_pair
from seg_plugins.geo.aoi import aoi_dates
from seg_plugins.geo.stac import expects_reflectance
from seg_plugins.utils.malloc import keep_freed_memory
from seg_plugins.utils.precision import (
    check_backend_precision,
    resolve_precision,
)
from seg_plugins.utils.preemption import StopSignal
from seg_plugins.utils.quiet_upstream import quiet_upstream

START = time.perf_counter()


def parse_args(argv=None):
    parser = infer_parser(__doc__)
    return check_infer_args(parser, parser.parse_args(argv))


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


def main(argv=None):
    quiet_upstream()
    args = parse_args(argv)
    applied = args.reuse_memory is not False and keep_freed_memory()
    if args.reuse_memory and not applied:
        print('[warning] --reuse-memory not applied: no glibc, or a '
              'MALLOC_* tunable is set in the environment', file=sys.stderr)
    model = build_model(args)
    settings = InferSettings.from_args(args)
    png = not args.pairs and is_png(args.out)
    stop = None
    if not png:  # a PNG pair is held in memory: nothing to save on a signal
        stop = StopSignal(notice='\n[signal] {signal}: stopping at the '
                          'next tile, or after the COGs or polygons being '
                          'made; a second signal ends it at once\n')
        stop.armed = True
    batch = SceneBatch(model, settings, stop)
    if args.pairs:
        failed = batch.run_list(
            args.pairs, (args.prob, args.polygons, args.quicklook),
            *rank_and_world(args.launcher), started=START)
        if failed:
            sys.exit(f'{failed} pair(s) failed, see the [error] lines')
        return
    try:
        if png:
            infer_png_pair(model, args.img_a, args.img_b, args.out,
                           args.prob, args.overlay, settings)
        else:
            dates = (args.img_a, args.img_b)
            if args.stac:
                scale = (expects_reflectance(model.cfg)
                         if args.apply_scale is None else args.apply_scale)
                dates = stac_dates(*dates, args.assets.split(','),
                                   args.mask_classes, scale)
            if args.aoi:
                dates = aoi_dates(*dates, args.aoi)
                print(f'AOI {args.aoi}: {dates[0]}')
            batch.run(*dates, OutputPaths(args.out, args.prob, args.polygons,
                                          args.quicklook))
    except (ValueError, OSError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
