"""A synthetic georeferenced scene pair: two dates and their change label as
tiled GeoTIFFs in a projected CRS, written block by block.

The content is the demo's synthetic change process
(:func:`seg_plugins.utils.synthetic.change_sample`) laid out on a grid of
64x64 cells, the demo's chip size: each cell draws the demo's textured
background, unchanged objects and changes with its own seeded generator, so
a checkpoint trained on the demo's chips sees the same statistics on the
scene. Date B has one illumination (per-band gain and offset) for the whole
scene, as a second acquisition would, and its own sensor noise. Every pixel
depends only on ``seed`` and its cell, so any window can be drawn on its
own: memory is bounded by one block whatever the scene size, and a B on a
shifted grid (``b_shift``) shows the same ground as A.

Each date has an irregular footprint (a star-shaped polygon, different per
date) with nodata outside it; valid pixels are never equal to the nodata
value. The label is 0/1 where both dates are valid and 255 (its nodata)
elsewhere.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .synthetic import random_shape, textured_background

CELL = 64  # the demo's chip size (make_synthetic_cd.py --size)
BLOCK = 512  # rows/cols drawn and written at a time; a multiple of CELL
# Cell coordinates are offset so that cells left of / above A's origin (a
# shifted B) still give the non-negative seeds numpy requires.
_CELL_OFFSET = 1 << 20


def cell_index(row: int, col: int) -> int:
    """The ``index`` of ``change_sample`` that cell (row, col) is drawn
    with: its A and label are ``change_sample(seed, index, CELL)``'s."""
    return ((row + _CELL_OFFSET) << 21) | (col + _CELL_OFFSET)


def _cell(seed: int, row: int, col: int, gain: np.ndarray,
          offset: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One CELL x CELL cell drawn as ``change_sample`` draws a chip, with
    the scene's illumination of B (``gain``, ``offset``: (bands, )).

    Bands beyond the first three come from a second generator, so the
    first three bands of a 4-band scene equal the 3-band scene's.

    Returns:
        tuple: A (CELL, CELL, bands) uint8, B (CELL, CELL, bands) float64
        in uint8 levels (not clipped), label (CELL, CELL) uint8 0/1.
    """
    bands = len(gain)
    key = [seed, cell_index(row, col)]
    rng = np.random.default_rng(key)
    extra = np.random.default_rng(key + [1])
    n_extra = max(bands - 3, 0)

    def colour():
        return np.concatenate([rng.integers(0, 256, 3),
                               extra.integers(0, 256, n_extra)])[:bands]

    img_a = textured_background(rng, CELL)
    if n_extra:
        more = [textured_background(extra, CELL)
                for _ in range(-(-n_extra // 3))]
        img_a = np.concatenate([img_a] + more, axis=2)
    img_a = img_a[..., :bands].copy()
    img_b = img_a.copy()
    label = np.zeros((CELL, CELL), np.uint8)
    for _ in range(rng.integers(1, 4)):  # unchanged objects
        mask, _ = random_shape(rng, CELL)
        img_a[mask] = img_b[mask] = colour()
    for _ in range(rng.integers(0, 4)):  # changes
        mask, _ = random_shape(rng, CELL)
        target = img_b if rng.random() < 0.5 else img_a
        target[mask] = colour()
        label[mask] = 1
    # change_sample's per-chip illumination: drawn and dropped, so that the
    # noise is the demo's too; the scene has one illumination instead.
    rng.uniform(0.7, 1.3, 3), rng.uniform(-30, 30, 3)
    noise = np.concatenate(
        [rng.normal(0, 6, (CELL, CELL, 3)),
         extra.normal(0, 6, (CELL, CELL, n_extra))], axis=2)[..., :bands]
    return img_a, img_b * gain + offset + noise, label


def render_window(seed: int, row: int, col: int, height: int, width: int,
                  gain: np.ndarray, offset: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scene's content in a window of A's pixel grid (any position,
    also outside the scene: the ground goes on).

    Args:
        gain, offset (np.ndarray): (bands, ) illumination of B.

    Returns:
        tuple: A (height, width, bands) uint8, B (height, width, bands)
        float64 in uint8 levels, label (height, width) uint8 0/1.
    """
    bands = len(gain)
    r0, c0 = row // CELL, col // CELL
    r1, c1 = -(-(row + height) // CELL), -(-(col + width) // CELL)
    shape = ((r1 - r0) * CELL, (c1 - c0) * CELL)
    img_a = np.empty(shape + (bands, ), np.uint8)
    img_b = np.empty(shape + (bands, ), np.float64)
    label = np.empty(shape, np.uint8)
    for i in range(r1 - r0):
        for j in range(c1 - c0):
            cell = (slice(i * CELL, (i + 1) * CELL),
                    slice(j * CELL, (j + 1) * CELL))
            img_a[cell], img_b[cell], label[cell] = _cell(
                seed, r0 + i, c0 + j, gain, offset)
    crop = (slice(row - r0 * CELL, row - r0 * CELL + height),
            slice(col - c0 * CELL, col - c0 * CELL + width))
    return img_a[crop], img_b[crop], label[crop]


class Footprint:
    """A star-shaped polygon around the scene centre in pixel coordinates
    of A's grid: radius ``r(t) = R (1 + sum_k a_k cos(k t + p_k))``.

    Args:
        rng (np.random.Generator): Draws the harmonics.
        height (int): Scene height in pixels.
        width (int): Scene width in pixels.
    """

    def __init__(self, rng: np.random.Generator, height: int, width: int):
        self.centre = (height / 2, width / 2)
        self.radii = (0.46 * height, 0.46 * width)
        self.orders = np.arange(2, 7)
        amp = rng.uniform(0.02, 0.07, len(self.orders))
        phase = rng.uniform(0, 2 * np.pi, len(self.orders))
        # a cos(k t + p) = Re(a e^{ip} z^k) with z = e^{it}: powers of z
        # are much cheaper than arctan2 and one cos per harmonic.
        self.coef = amp * np.exp(1j * phase)

    def inside(self, row: int, col: int, height: int,
               width: int) -> np.ndarray:
        """Bool mask (height, width) of the window's pixel centres inside."""
        yy = (np.arange(row, row + height)[:, None] + 0.5 -
              self.centre[0]) / self.radii[0]
        xx = (np.arange(col, col + width)[None] + 0.5 -
              self.centre[1]) / self.radii[1]
        radius = np.hypot(yy, xx)
        z = (xx + 1j * yy) / np.maximum(radius, 1e-12)
        power = z**self.orders[0]
        wave = np.zeros(radius.shape)
        for coef in self.coef:
            wave += (coef * power).real
            power *= z
        return radius <= 1 + wave


def _profile(height, width, count, dtype, crs, transform, nodata, compress,
             blocksize):
    profile = dict(
        driver='GTiff', height=height, width=width, count=count,
        dtype=dtype, crs=crs, transform=transform, nodata=nodata,
        tiled=True, blockxsize=blocksize, blockysize=blocksize,
        BIGTIFF='IF_SAFER')
    if compress:
        profile.update(compress=compress)
        if compress.lower() in ('deflate', 'lzw', 'zstd'):
            profile.update(predictor=2)
    return profile


def scene_paths(out_dir: str, prefix: str = 'scene') -> Dict[str, str]:
    """Paths ``a``, ``b``, ``label`` that :func:`write_scene_pair` writes."""
    return {key: osp.join(out_dir, f'{prefix}_{name}.tif')
            for key, name in (('a', 'A'), ('b', 'B'), ('label', 'label'))}


def write_scene_pair(out_dir: str,
                     size: Union[int, Sequence[int]],
                     bands: int = 3,
                     dtype: str = 'uint8',
                     seed: int = 0,
                     crs: Optional[str] = 'EPSG:32633',
                     pixel_size: float = 0.5,
                     nodata_border: bool = True,
                     origin: Tuple[float, float] = (500000.0, 5600000.0),
                     dn_scale: float = 40.0,
                     b_shift: Tuple[int, int] = (0, 0),
                     compress: Optional[str] = 'deflate',
                     blocksize: int = 256,
                     prefix: str = 'scene',
                     b_radiometry: Optional[Tuple[Sequence[float],
                                                  Sequence[float]]] = None
                     ) -> Dict[str, str]:
    """Write ``<prefix>_A.tif``, ``<prefix>_B.tif`` and
    ``<prefix>_label.tif`` under ``out_dir``.

    Args:
        out_dir (str): Output folder (created).
        size (int | Sequence[int]): Scene size, ``N`` or ``(height,
            width)`` in pixels.
        bands (int): Bands per date (>= 1). The first three are the demo's
            RGB, written in R, G, B order (``to_loader_order`` reverses a
            3-band raster to the BGR that cv2 gives the demo's PNGs).
        dtype (str): 'uint8', or 'uint16' for digital numbers
            ``value * dn_scale`` (0..10200 with the default scale).
        seed (int): Content, footprints and illumination depend on it only.
        crs (str, optional): CRS of both dates; None writes rasters without
            georeferencing. Default: 'EPSG:32633' (UTM 33N, metres).
        pixel_size (float): Ground sampling distance in CRS units.
        nodata_border (bool): Irregular footprints with nodata (0) outside;
            False: every pixel valid (the rasters still declare nodata 0).
        origin (tuple[float, float]): (x, y) of A's upper-left corner.
        dn_scale (float): uint16 digital numbers per uint8 level.
        b_shift (tuple[int, int]): (rows, cols) by which B's grid is moved
            against A's: B's pixel (r, c) shows A's pixel
            (r + rows, c + cols), and B's transform says so. (0, 0): the
            pair is co-registered.
        compress (str, optional): GeoTIFF compression ('deflate', 'lzw',
            'zstd', None).
        blocksize (int): Internal tile size of the GeoTIFFs (multiple of 16).
        prefix (str): File name prefix.
        b_radiometry (tuple, optional): B's per-band (gain, offset), the
            offset in uint8 levels, instead of the ones ``seed`` draws:
            pairs of one content under different acquisitions.

    Returns:
        dict: Paths ``a``, ``b``, ``label``.
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    height, width = (size, size) if np.isscalar(size) else map(int, size)
    assert bands >= 1, f'bands must be >= 1, got {bands}'
    assert dtype in ('uint8', 'uint16'), f'dtype uint8 or uint16, not {dtype}'
    assert blocksize % 16 == 0, f'blocksize {blocksize}: multiple of 16'
    os.makedirs(out_dir, exist_ok=True)
    paths = scene_paths(out_dir, prefix)
    # Drawn so that the first three bands do not depend on ``bands``.
    scene = np.random.default_rng([seed, 7])
    extra = np.random.default_rng([seed, 8])
    n_extra = max(bands - 3, 0)
    gain, offset = scene.uniform(0.7, 1.3, 3), scene.uniform(-30, 30, 3)
    gain = np.concatenate([gain, extra.uniform(0.7, 1.3, n_extra)])[:bands]
    offset = np.concatenate([offset, extra.uniform(-30, 30, n_extra)])[:bands]
    if b_radiometry is not None:
        gain, offset = (np.asarray(v, np.float64) for v in b_radiometry)
        assert gain.shape == offset.shape == (bands, ), (
            f'b_radiometry: {bands} gains and offsets, got {gain.shape}, '
            f'{offset.shape}')
    foot_a = Footprint(scene, height, width)
    foot_b = Footprint(scene, height, width)
    dr, dc = b_shift
    transform_a = from_origin(origin[0], origin[1], pixel_size, pixel_size)
    transform_b = transform_a @ transform_a.translation(dc, dr)
    if crs is None:
        transform_a = transform_b = None
    scale, top = (1, 255) if dtype == 'uint8' else (dn_scale, 65535)

    def to_dn(img: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(h, w, bands) float in uint8 levels -> (bands, h, w) ``dtype``,
        nodata 0 outside ``valid``, valid pixels >= 1."""
        dn = np.clip(np.rint(img * scale), 1, top).astype(dtype)
        dn[~valid] = 0
        return dn.transpose(2, 0, 1)

    def footprint(foot, row, col, h, w):
        if not nodata_border:
            return np.ones((h, w), bool)
        return foot.inside(row, col, h, w)

    env = rasterio.Env(GDAL_CACHEMAX=64 * 1024 * 1024)
    with env, \
            rasterio.open(paths['a'], 'w', **_profile(
                height, width, bands, dtype, crs, transform_a, 0, compress,
                blocksize)) as dst_a, \
            rasterio.open(paths['b'], 'w', **_profile(
                height, width, bands, dtype, crs, transform_b, 0, compress,
                blocksize)) as dst_b, \
            rasterio.open(paths['label'], 'w', **_profile(
                height, width, 1, 'uint8', crs, transform_a, 255, compress,
                blocksize)) as dst_label:
        for row in range(0, height, BLOCK):
            for col in range(0, width, BLOCK):
                h, w = min(BLOCK, height - row), min(BLOCK, width - col)
                window = Window(col, row, w, h)
                img_a, img_b, label = render_window(seed, row, col, h, w,
                                                    gain, offset)
                if b_shift != (0, 0):
                    _, img_b, _ = render_window(seed, row + dr, col + dc, h,
                                                w, gain, offset)
                valid_a = footprint(foot_a, row, col, h, w)
                valid_b = footprint(foot_b, row + dr, col + dc, h, w)
                # Where B's grid is shifted, B's footprint on A's grid is
                # the unshifted one.
                b_on_a = (valid_b if b_shift == (0, 0) else
                          footprint(foot_b, row, col, h, w))
                dst_a.write(to_dn(img_a.astype(np.float64), valid_a),
                            window=window)
                dst_b.write(to_dn(img_b, valid_b),
                            window=window)
                both = valid_a & b_on_a
                dst_label.write(np.where(both, label, 255)[None],
                                window=window)
    return paths
