"""Chips of one georeferenced scene pair and its change label, in the
LEVIR-CD layout that ``BiTemporalChangeDataset`` reads.

A change label is either a raster on A's grid (0/1 or 0/255, its nodata
ignored) or polygons of the changes (any OGR format; reprojected to A's CRS
and rasterised onto each chip's grid: a pixel is changed when its centre
lies in a polygon). GeoTIFF chips keep every band, the dtype, nodata and the
georeferencing of their window; PNG chips (3-band uint8 scenes only) are
plain LEVIR files with 0/255 labels. Pixels without data in either date (or
in the label raster) are labelled ``IGNORE`` in GeoTIFF chips and unchanged
(0, values 0) in PNG chips, which have no nodata.
"""
import os
import os.path as osp
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from rasterio.windows import Window

from ..utils.progress import Progress
from .band_stack import date_files
from .chips_labels import ChipError, PolygonLabel, RasterLabel
from .grid import check_same_grid, open_raster
from .nodata import has_data
from .radiometry import reverse_rgb, scene_stats
from .raster_pair import RasterPair
from .remote import exists
from .tiling import axis_windows

FOLDERS = ('A', 'B', 'label')
VECTOR_SUFFIXES = ('.gpkg', '.geojson', '.json', '.shp', '.fgb', '.gml',
                   '.kml')
IGNORE = 255


@dataclass
class ChipOptions:
    """How a scene is cut.

    Args:
        size (int): Chip size in pixels.
        stride (int, optional): Step between chips; default ``size`` (no
            overlap). The last row and column of chips is aligned to the
            scene's edge.
        fmt (str): 'tif' or 'png'.
        bands (list[int], optional): 1-based bands of A and B; None: all.
        max_nodata (float): Chips with a larger share of pixels without
            data (in A, B or the label) are skipped.
    """

    size: int = 256
    stride: Optional[int] = None
    fmt: str = 'tif'
    bands: Optional[List[int]] = None
    max_nodata: float = 0.5

    def __post_init__(self):
        self.stride = self.stride or self.size
        assert self.fmt in ('tif', 'png'), f'fmt {self.fmt!r}: tif or png'
        assert self.size >= 1 and self.stride >= 1, \
            f'size {self.size} and stride {self.stride} must be >= 1'


@dataclass
class ChipTally:
    """What the chips of all scenes so far add up to.

    Attributes:
        counts (Counter): 'skipped' chips and 'nodata_px' in the kept ones.
        sums (dict): chip name -> :func:`band_sums` of A and B together.
        date_sums (dict): chip name -> [:func:`band_sums` of A, of B].
        radiometry (dict): scene stem -> :func:`scene_radiometry`.
    """

    counts: Counter = field(default_factory=Counter)
    sums: Dict[str, np.ndarray] = field(default_factory=dict)
    date_sums: Dict[str, List[np.ndarray]] = field(default_factory=dict)
    radiometry: Dict[str, dict] = field(default_factory=dict)


def scene_stem(spec: str) -> str:
    """The name of a scene's chips: A's file name without its suffix; for a
    date given as band files (``geo/band_stack.py``), the first file's
    folder and name (``S2A_31UFQ_20230101_B04``: band files of several
    scenes share their names)."""
    files = date_files(spec)
    stem = osp.splitext(osp.basename(files[0]))[0]
    if len(files) == 1:
        return stem
    folder = osp.basename(osp.dirname(files[0].rstrip('/')))
    return f'{folder}_{stem}' if folder else stem


def read_chip(src, bands: Sequence[int], window,
              fmt: str) -> Tuple[np.ndarray, np.ndarray]:
    """One date's chip: (C, h, w) values, and (h, w) True where every
    selected band holds data (GDAL's masks: nodata value, alpha or
    internal mask; in float data, a finite value). GeoTIFF chips keep the
    values as stored, with the nodata value; PNG has none, so there a
    value without data is 0, as the model is shown it
    (``seg_plugins/geo/nodata.py``)."""
    img = src.read(list(bands), window=window)
    kept = has_data(img, src.read_masks(list(bands), window=window))
    if fmt == 'png':
        img[~kept] = 0
    return img, kept.all(0)


def check_bands(src, path: str, bands: Optional[Sequence[int]],
                fmt: str) -> List[int]:
    """The 1-based bands to cut from ``src``: ``bands``, or all.

    Raises:
        ChipError: naming ``path``, when a band is missing or when PNG
            chips are asked of anything but 3 uint8 bands.
    """
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


def scene_radiometry(path_a: str, path_b: str, bands: Sequence[int]) -> dict:
    """Per-date statistics of a scene pair as scene inference computes
    them (``seg_plugins/geo/radiometry.py``), in band order, for
    ``RadiometricNormalize(stats_file=...)``."""
    with RasterPair(path_a, path_b, bands) as pair:
        return reverse_rgb(scene_stats(pair)).to_dict()


def _open_scene(scene: Sequence[str], options: ChipOptions,
                stack: ExitStack):
    """Open A, B and the label of a scene and check that they fit together.

    Returns:
        tuple: A's and B's datasets, the bands of each, the label reader;
        all closed when ``stack`` closes.
    """
    path_a, path_b, path_label = scene[0], scene[1], os.fspath(scene[2])
    for path in date_files(path_a) + date_files(path_b) + [path_label]:
        if not exists(path):
            raise ChipError(f'{path} not found')
    src_a, src_b = (stack.enter_context(open_raster(p))
                    for p in (path_a, path_b))
    check_same_grid(src_a, src_b, path_a, path_b,
                    hint='scenes2chips tiles co-registered pairs: '
                    "resample B onto A's grid first (e.g. gdalwarp, or "
                    'rasterio.vrt.WarpedVRT)')
    bands_a = check_bands(src_a, path_a, options.bands, options.fmt)
    bands_b = check_bands(src_b, path_b, options.bands, options.fmt)
    if len(bands_a) != len(bands_b):
        raise ChipError(f'{path_a} gives {len(bands_a)} band(s) but '
                        f'{path_b} gives {len(bands_b)}; pass --bands')
    label_src = (PolygonLabel(path_label, src_a)
                 if path_label.lower().endswith(VECTOR_SUFFIXES) else
                 RasterLabel(path_label, src_a, path_a))
    stack.callback(label_src.close)
    return src_a, src_b, bands_a, bands_b, label_src


def chip_scene(options: ChipOptions, scene: Sequence[str],
               writer: ChipWriter, tally: ChipTally) -> List[str]:
    """Write the chips of one scene pair under ``writer``'s folder.

    Args:
        options (ChipOptions): How to cut.
        scene (Sequence[str]): A, B and the label (raster or polygons);
            a fourth item (the split) is not read here.
        writer (ChipWriter): Where the chips go.
        tally (ChipTally): Counts, each chip's band sums and the scene's
            radiometry are added to it.

    Returns:
        list[str]: names of the chips written, ``<A's stem>_<row>_<col>``.
    """
    path_a, path_b = scene[:2]
    size, stride = options.size, options.stride
    with ExitStack() as stack:
        src_a, src_b, bands_a, bands_b, label_src = _open_scene(
            scene, options, stack)
        if min(src_a.height, src_a.width) < size:
            raise ChipError(f'{path_a} is {src_a.width}x{src_a.height} px '
                            f'(WxH), smaller than --size {size}')
        stem = scene_stem(path_a)
        # Tiles with an overlap of size - stride (negative: gaps) start
        # every stride, the last one flush with the edge.
        rows, cols = ([w[0] for w in axis_windows(n, size, size - stride)]
                      for n in (src_a.height, src_a.width))
        starts = [(row, col) for row in rows for col in cols]
        print(f'{path_a} + {path_b}: {len(starts)} chips of {size}^2')
        names = []
        bar = Progress(len(starts), 'chips')
        for row, col in starts:
            window = Window(col, row, size, size)
            label, invalid = label_src.read(window)
            imgs = []
            for src, bands in ((src_a, bands_a), (src_b, bands_b)):
                img, valid = read_chip(src, bands, window, options.fmt)
                imgs.append(img)
                invalid |= ~valid
            bar.update()
            if invalid.mean() > options.max_nodata:
                tally.counts['skipped'] += 1
                continue
            tally.counts['nodata_px'] += int(invalid.sum())
            label[invalid] = IGNORE
            name = f'{stem}_{row}_{col}'
            writer.write(name, imgs, (src_a, src_b), window, label)
            tally.sums[name] = band_sums(imgs, ~invalid)
            tally.date_sums[name] = [band_sums([img], ~invalid)
                                     for img in imgs]
            names.append(name)
        bar.close()
    if names:
        tally.radiometry[stem] = scene_radiometry(path_a, path_b, bands_a)
    return names
