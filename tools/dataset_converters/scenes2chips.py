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
import json
import os
import os.path as osp
import shutil
from collections import Counter
from typing import List, Optional, Sequence, Tuple

import numpy as np

SPLITS = ('train', 'val', 'test')
FOLDERS = ('A', 'B', 'label')
VECTOR_SUFFIXES = ('.gpkg', '.geojson', '.json', '.shp', '.fgb', '.gml',
                   '.kml')
IGNORE = 255


class ChipError(ValueError):
    """Bad input to scenes2chips: the message names the file."""


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


def axis_starts(length: int, size: int, stride: int) -> List[int]:
    """Chip starts along one axis: every ``stride``, the last one aligned to
    the edge so that chips never run past it (and cover it)."""
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts


def read_polygons(path: str, crs) -> list:
    """The polygons of a vector file, in ``crs``.

    Returns:
        list: shapely geometries.
    """
    try:
        from pyogrio.raw import read
    except ImportError:
        raise ChipError(f'{path}: reading polygons needs pyogrio '
                        '(pip install -r requirements.txt)') from None
    import shapely
    from rasterio.warp import transform_geom
    try:
        meta, _, wkb, _ = read(path, read_geometry=True, columns=[])
    except Exception as e:  # pyogrio's DataSourceError and friends
        raise ChipError(f'cannot read polygons from {path}: {e}') from None
    geoms = [g for g in shapely.from_wkb(wkb) if g is not None]
    src_crs = meta.get('crs')
    if src_crs is None:
        print(f'warning: {path} has no CRS; taking its coordinates to be in '
              "A's CRS")
    elif crs is not None:
        geoms = [
            shapely.geometry.shape(
                transform_geom(src_crs, crs, shapely.geometry.mapping(g)))
            for g in geoms
        ]
    return geoms


class RasterLabel:
    """A label raster on A's grid: 0/1 or 0/255, nodata ignored."""

    def __init__(self, path: str, src_a, name_a: str):
        from seg_plugins.geo.grid import check_same_grid, open_raster
        self.path = path
        self.src = open_raster(path)
        check_same_grid(src_a, self.src, name_a, path,
                        hint="the label raster must be on A's grid")

    def read(self, window) -> Tuple[np.ndarray, np.ndarray]:
        """Returns: label (h, w) uint8 0/1, nodata mask (h, w) bool."""
        band = self.src.read(1, window=window, masked=True)
        nodata = np.ma.getmaskarray(band)
        label = np.where(nodata, 0, np.asarray(band.data))
        values = set(np.unique(label).tolist())
        if not (values <= {0, 1} or values <= {0, 255}):
            raise ChipError(f'change label {self.path} has values '
                            f'{sorted(values)[:10]}; expected 0/1 or 0/255 '
                            '(and its nodata)')
        return (label > 0).astype(np.uint8), nodata

    def close(self):
        self.src.close()


class PolygonLabel:
    """Change polygons rasterised onto each window of A's grid."""

    def __init__(self, path: str, src_a):
        import shapely
        self.geoms = read_polygons(path, src_a.crs)
        self.tree = shapely.STRtree(self.geoms)
        self.src_a = src_a

    def read(self, window) -> Tuple[np.ndarray, np.ndarray]:
        from rasterio.features import rasterize
        from rasterio.windows import bounds
        from rasterio.windows import transform as window_transform
        from shapely.geometry import box
        shape = (int(window.height), int(window.width))
        hits = self.tree.query(box(*bounds(window, self.src_a.transform)))
        label = np.zeros(shape, np.uint8)
        if len(hits):
            label = rasterize(
                ((self.geoms[i], 1) for i in hits), out_shape=shape,
                transform=window_transform(window, self.src_a.transform),
                fill=0, dtype='uint8')
        return label, np.zeros(shape, bool)

    def close(self):
        pass


def read_chip(src, bands: Sequence[int], window,
              fmt: str) -> Tuple[np.ndarray, np.ndarray]:
    """One date's chip: (C, h, w) values, and (h, w) True where every
    selected band holds data (GDAL's masks: nodata value, alpha or
    internal mask; in float data, a finite value). GeoTIFF chips keep the
    values as stored, with the nodata value; PNG has none, so there a
    value without data is 0, as the model is shown it
    (``seg_plugins/geo/nodata.py``)."""
    from seg_plugins.geo.nodata import has_data
    img = src.read(list(bands), window=window)
    kept = has_data(img, src.read_masks(list(bands), window=window))
    if fmt == 'png':
        img[~kept] = 0
    return img, kept.all(0)


def check_bands(src, path: str, bands: Optional[Sequence[int]],
                fmt: str) -> List[int]:
    if bands is None:
        bands = list(range(1, src.count + 1))
    if max(bands) > src.count:
        raise ChipError(f'{path} has {src.count} band(s); --bands '
                        f'{",".join(map(str, bands))} asked for')
    if fmt == 'png' and (len(bands) != 3 or any(
            src.dtypes[b - 1] != 'uint8' for b in bands)):
        dtypes = sorted({src.dtypes[b - 1] for b in bands})
        raise ChipError(
            f'{path}: PNG chips hold 3-band uint8 images; this scene gives '
            f'{len(bands)} band(s) of {"/".join(dtypes)}. Use --format tif '
            '(keeps every band and the dtype), or --bands to pick 3 uint8 '
            'bands')
    return list(bands)


class ChipWriter:
    """Writes one chip (A, B, label) in GeoTIFF or PNG under a folder."""

    def __init__(self, root: str, fmt: str):
        self.root, self.fmt = root, fmt
        for folder in FOLDERS:
            os.makedirs(osp.join(root, folder), exist_ok=True)

    def path(self, folder: str, name: str) -> str:
        return osp.join(self.root, folder, f'{name}.{self.fmt}')

    def write(self, name, imgs, srcs, window, label):
        """Args:
            imgs (list[np.ndarray]): A and B, (C, h, w) in band order.
            srcs (list): their open datasets (profile, nodata, transform).
            label (np.ndarray): (h, w) uint8, 0/1 and IGNORE.
        """
        if self.fmt == 'png':
            from PIL import Image
            for folder, img in zip('AB', imgs):
                Image.fromarray(img.transpose(1, 2, 0)).save(
                    self.path(folder, name))
            Image.fromarray(np.where(label == 1, 255, 0).astype(
                np.uint8)).save(self.path('label', name))
            return
        import rasterio
        from rasterio.windows import transform as window_transform
        h, w = label.shape
        for folder, img, src in zip('AB', imgs, srcs):
            profile = dict(
                driver='GTiff', height=h, width=w, count=img.shape[0],
                dtype=img.dtype.name, crs=src.crs, nodata=src.nodata,
                transform=window_transform(window, src.transform),
                compress='deflate')
            with rasterio.open(self.path(folder, name), 'w',
                               **profile) as dst:
                dst.write(img)
        profile.update(count=1, dtype='uint8', nodata=IGNORE,
                       transform=window_transform(window, srcs[0].transform))
        with rasterio.open(self.path('label', name), 'w', **profile) as dst:
            dst.write(label[None])


def band_sums(imgs: Sequence[np.ndarray], valid: np.ndarray) -> np.ndarray:
    """(3, C) float64: pixel count, sum and sum of squares per band over the
    valid pixels of both dates."""
    x = np.concatenate([img[:, valid] for img in imgs], 1).astype(np.float64)
    return np.stack([np.full(len(x), x.shape[1], np.float64), x.sum(1),
                     (x * x).sum(1)])


def band_stats(sums: Sequence[np.ndarray]) -> Tuple[list, list]:
    """Per-band mean and std from :func:`band_sums` of many chips."""
    n, s, ss = np.sum(sums, 0)
    mean = s / n
    std = np.sqrt(np.maximum(ss / n - mean * mean, 0))
    return ([round(float(m), 3) for m in mean],
            [round(float(v), 3) for v in std])


def scene_radiometry(path_a: str, path_b: str, bands: Sequence[int]) -> dict:
    """Per-date statistics of a scene pair as scene inference computes
    them (``seg_plugins/geo/radiometry.py``), in band order, for
    ``RadiometricNormalize(stats_file=...)``."""
    from seg_plugins.datasets.transforms.radiometric_norm import reverse_rgb
    from seg_plugins.geo.radiometry import scene_stats
    from seg_plugins.geo.raster_pair import RasterPair
    with RasterPair(path_a, path_b, bands) as pair:
        return reverse_rgb(scene_stats(pair)).to_dict()


def chip_scene(args, scene: Sequence[str], writer: ChipWriter,
               stats: Counter, sums: dict,
               date_sums: Optional[dict] = None,
               radiometry: Optional[dict] = None) -> List[str]:
    """Write the chips of one scene pair under ``writer``'s folder.

    Args:
        sums (dict): Filled with each chip's :func:`band_sums`.
        date_sums (dict, optional): Filled with each chip's
            :func:`band_sums` of A and of B, apart.
        radiometry (dict, optional): Filled with the scene's per-date
            statistics (:func:`scene_radiometry`) under its name.

    Returns:
        list[str]: names of the chips written.
    """
    from rasterio.windows import Window

    from seg_plugins.geo.band_stack import date_files
    from seg_plugins.geo.bands import parse_bands
    from seg_plugins.geo.grid import check_same_grid, open_raster
    from seg_plugins.geo.remote import exists
    from seg_plugins.utils.progress import Progress
    path_a, path_b, path_label = scene[:3]
    for path in date_files(path_a) + date_files(path_b) + [path_label]:
        if not exists(path):
            raise ChipError(f'{path} not found')
    bands = parse_bands(args.bands)
    src_a, src_b = open_raster(path_a), open_raster(path_b)
    label_src = None
    try:
        check_same_grid(src_a, src_b, path_a, path_b,
                        hint='scenes2chips tiles co-registered pairs: '
                        "resample B onto A's grid first (e.g. gdalwarp, or "
                        'rasterio.vrt.WarpedVRT)')
        bands_a = check_bands(src_a, path_a, bands, args.format)
        bands_b = check_bands(src_b, path_b, bands, args.format)
        if len(bands_a) != len(bands_b):
            raise ChipError(f'{path_a} gives {len(bands_a)} band(s) but '
                            f'{path_b} gives {len(bands_b)}; pass --bands')
        label_src = (PolygonLabel(path_label, src_a)
                     if path_label.lower().endswith(VECTOR_SUFFIXES) else
                     RasterLabel(path_label, src_a, path_a))
        if min(src_a.height, src_a.width) < args.size:
            raise ChipError(f'{path_a} is {src_a.width}x{src_a.height} px '
                            f'(WxH), smaller than --size {args.size}')
        stem = osp.splitext(osp.basename(path_a))[0]
        starts = [(r, c)
                  for r in axis_starts(src_a.height, args.size, args.stride)
                  for c in axis_starts(src_a.width, args.size, args.stride)]
        names = []
        print(f'{path_a} + {path_b}: {len(starts)} chips of {args.size}^2')
        bar = Progress(len(starts), 'chips')
        for row, col in starts:
            window = Window(col, row, args.size, args.size)
            label, invalid = label_src.read(window)
            imgs = []
            for src, bands_i in ((src_a, bands_a), (src_b, bands_b)):
                img, valid = read_chip(src, bands_i, window, args.format)
                imgs.append(img)
                invalid |= ~valid
            bar.update()
            if invalid.mean() > args.max_nodata:
                stats['skipped'] += 1
                continue
            stats['nodata_px'] += int(invalid.sum())
            label[invalid] = IGNORE
            name = f'{stem}_{row}_{col}'
            writer.write(name, imgs, (src_a, src_b), window, label)
            sums[name] = band_sums(imgs, ~invalid)
            if date_sums is not None:
                date_sums[name] = [band_sums([img], ~invalid)
                                   for img in imgs]
            names.append(name)
        bar.close()
        if radiometry is not None and names:
            radiometry[stem] = scene_radiometry(path_a, path_b, bands_a)
        return names
    finally:
        src_a.close()
        src_b.close()
        if label_src is not None:
            label_src.close()


def scene_stem(spec: str) -> str:
    """The name of a scene's chips: A's file name without its suffix; for a
    date given as band files (``geo/band_stack.py``), the first file's
    folder and name (``S2A_31UFQ_20230101_B04``: band files of several
    scenes share their names)."""
    from seg_plugins.geo.band_stack import date_files
    files = date_files(spec)
    stem = osp.splitext(osp.basename(files[0]))[0]
    if len(files) == 1:
        return stem
    folder = osp.basename(osp.dirname(files[0].rstrip('/')))
    return f'{folder}_{stem}' if folder else stem


def assign_splits(names: List[str], val_fraction: float,
                  test_fraction: float, seed: int) -> dict:
    """Seeded shuffle -> {name: split}; at least one val (test) chip when
    its fraction is > 0 and there are chips to spare."""
    order = np.random.default_rng(seed).permutation(len(names))
    n_val = int(round(val_fraction * len(names)))
    n_test = int(round(test_fraction * len(names)))
    if val_fraction > 0 and len(names) > 1:
        n_val = max(n_val, 1)
    if test_fraction > 0 and len(names) > n_val + 1:
        n_test = max(n_test, 1)
    splits = {}
    for rank, i in enumerate(order):
        splits[names[i]] = ('val' if rank < n_val else
                            'test' if rank < n_val + n_test else 'train')
    return splits


def main(argv=None):
    import rasterio

    from seg_plugins.geo.remote import remote_config
    args = parse_args(argv)
    staging = osp.join(args.out, '.staging')
    if osp.isdir(args.out) and os.listdir(args.out) == ['.staging']:
        # Only a stopped run's chips, never moved into place: start over.
        print(f'removing {staging}, left by a run that was stopped')
        shutil.rmtree(staging)
    if osp.isdir(args.out) and os.listdir(args.out):
        why = (' (a run stopped while moving its chips into place: remove '
               'it and run again)' if osp.isdir(staging) else '')
        raise SystemExit(f'error: {args.out} is not empty{why}; '
                         'scenes2chips writes into a new (or empty) folder')
    stems = [scene_stem(s[0]) for s in args.scene]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise SystemExit(f'error: scenes whose A files share a name ({dup}): '
                         'chips are named after A, rename one')
    writer = ChipWriter(staging, args.format)
    stats, sums, date_sums, radiometry = Counter(), {}, {}, {}
    fixed, shuffled = {}, []
    try:
        for scene in args.scene:
            with rasterio.Env(**remote_config()):  # remote scenes
                names = chip_scene(args, scene, writer, stats, sums,
                                   date_sums, radiometry)
            if len(scene) == 4:
                fixed.update({n: scene[3] for n in names})
            else:
                shuffled += names
    except ValueError as e:  # ChipError, GridMismatchError, open errors
        shutil.rmtree(args.out, ignore_errors=True)
        raise SystemExit(f'error: {e}') from None
    splits = dict(fixed, **assign_splits(shuffled, args.val_fraction,
                                         args.test_fraction, args.seed))
    for split in set(splits.values()):
        for folder in FOLDERS:
            os.makedirs(osp.join(args.out, split, folder), exist_ok=True)
    for name, split in splits.items():
        for folder in FOLDERS:
            os.replace(writer.path(folder, name),
                       osp.join(args.out, split, folder,
                                f'{name}.{args.format}'))
    shutil.rmtree(staging)
    counts = Counter(splits.values())
    print(f'wrote {len(splits)} chips to {args.out}: ' + ', '.join(
        f'{s} {counts[s]}' for s in SPLITS if counts[s]))
    print(f'skipped {stats["skipped"]} chips with more than '
          f'{args.max_nodata:.0%} nodata')
    if stats['nodata_px']:
        how = ('labelled unchanged (0): PNG has no nodata'
               if args.format == 'png' else 'labelled 255 (ignored)')
        print(f'{stats["nodata_px"]} nodata pixels in the kept chips, {how}')
    if not splits:
        raise SystemExit('error: no chip kept (every chip is mostly nodata; '
                         'see --max-nodata)')
    train = [n for n, s in splits.items() if s == 'train'] or list(sums)
    mean, std = band_stats([sums[n] for n in train])
    per_date = {}
    for i, date in enumerate('AB'):
        per_date[f'mean_{date}'], per_date[f'std_{date}'] = band_stats(
            [date_sums[n][i] for n in train])
    with open(osp.join(args.out, 'band_stats.json'), 'w') as f:
        json.dump(dict(mean=mean, std=std, bands='band order of the files',
                       over='valid pixels of A and B in the train chips',
                       **per_date, scenes=radiometry), f, indent=1)
    print(f'per-band mean/std of the train chips (valid pixels, A and B; '
          f'band order; {args.out}/band_stats.json), for the config\'s '
          f'data_preprocessor:\n  mean={mean}\n  std={std}')
    print('  per date: ' + ', '.join(
        f'{k}={v}' for k, v in per_date.items() if k.startswith('mean')))
    if args.format == 'png' or len(mean) == 3:
        print('  (3-band chips load reversed, as B, G, R, and a '
              'preprocessor with bgr_to_rgb=True turns them back to band '
              'order: use these lists with it)')


if __name__ == '__main__':
    main()
