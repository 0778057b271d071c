r"""Change polygons block by block (``--polygons``) against polygonising the
whole change raster at once.

Writes change rasters of smooth random blobs over 45% of the pixels
(many regions, some across block borders) and over 55% (one region
percolates across the whole raster, with thousands of holes: the most
merging there is), then in a fresh process each:

- ``blocks``: ``change_regions``, block by block from the file, as
  ``tools/infer.py --polygons`` runs it;
- ``whole``: the whole band read into memory and polygonised at once
  (``rasterio.features.shapes``), the reference.

Prints seconds, the ratio (blocks / whole), the region counts (equal, or
the run stops) and each one's peak memory above the interpreter's
baseline (imports done).

Target: block-by-block time within a small factor of the whole raster's
at every size (it grows with the scene, not faster), and its peak
memory flat in the scene's size apart from the regions it holds.

    python tools/analysis/benchmark_polygons.py --sizes 2048 4096 8192 \
        --work-dir /tmp/bench_polygons
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np

SHARES = (0.45, 0.55)


def change_raster(path: str, size: int, share: float, seed: int = 0):
    """A tiled change GeoTIFF (1 changed, 0 not) of smooth blobs over
    ``share`` of the pixels, written a strip at a time."""
    import cv2
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window
    rng = np.random.default_rng(seed)
    coarse = rng.random((size // 16 + 2, size // 16 + 2)).astype(np.float32)
    threshold = np.quantile(coarse, 1 - share)  # cubic keeps the share
    profile = dict(driver='GTiff', width=size, height=size, count=1,
                   dtype='uint8', nodata=255, crs='EPSG:32633',
                   transform=from_origin(500000, 5000000, 0.5, 0.5),
                   tiled=True, blockxsize=512, blockysize=512,
                   compress='deflate')
    strip = 1024
    with rasterio.open(path, 'w', **profile) as dst:
        for r0 in range(0, size, strip):
            # the strip's coarse rows with a margin, resized, then cut
            c0 = r0 // 16
            part = coarse[c0:c0 + strip // 16 + 2]
            field = cv2.resize(part, (size + 32, part.shape[0] * 16),
                               interpolation=cv2.INTER_CUBIC)
            rows = field[:min(strip, size - r0), :size]  # r0 = c0 * 16
            dst.write((rows > threshold).astype(np.uint8)[None],
                      window=Window(0, r0, size, rows.shape[0]))


def child(mode: str, path: str) -> dict:
    import rasterio
    from rasterio.features import shapes
    from shapely.geometry import shape

    from seg_plugins.geo.polygons import change_regions
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    base = rss_mb()
    start = time.perf_counter()
    with rasterio.open(path) as src:
        if mode == 'blocks':
            regions = sum(1 for _ in change_regions(src, 1))
        else:
            band = src.read(1)
            regions = sum(1 for g, _ in shapes(band, mask=band == 1)
                          if shape(g))
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return dict(seconds=seconds, regions=regions, peak_mb=peak - base)


def run_child(mode: str, path: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, '--child', mode, path],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[2048, 4096, 8192])
    parser.add_argument('--work-dir', default='/tmp/bench_polygons')
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    os.makedirs(args.work_dir, exist_ok=True)
    print(f'{"share":>5} {"size":>6} {"regions":>8} {"blocks s":>9} '
          f'{"whole s":>8} {"ratio":>6} {"blocks MB":>9} {"whole MB":>8}')
    for share in SHARES:
        for size in args.sizes:
            path = osp.join(args.work_dir, f'change_{share}_{size}.tif')
            if not osp.exists(path):
                change_raster(path, size, share)
            blocks = run_child('blocks', path)
            whole = run_child('whole', path)
            if blocks['regions'] != whole['regions']:
                raise SystemExit(f'{path}: {blocks["regions"]} regions '
                                 f'block by block, {whole["regions"]} whole')
            print(f'{share:5.2f} {size:6d} {whole["regions"]:8d} '
                  f'{blocks["seconds"]:9.2f} {whole["seconds"]:8.2f} '
                  f'{blocks["seconds"] / whole["seconds"]:6.2f} '
                  f'{blocks["peak_mb"]:9.1f} {whole["peak_mb"]:8.1f}')
    print('ratio: block-by-block time / whole-raster time; MB: peak RSS '
          'above the baseline after imports')


if __name__ == '__main__':
    main()
