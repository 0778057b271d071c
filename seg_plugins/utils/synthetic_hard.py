"""A harder synthetic change-detection pair, for telling models apart.

The demo set (:func:`seg_plugins.utils.synthetic.change_sample`) has large
changed shapes on a plain texture: every model reaches a high F1 on it. This
set keeps the LEVIR-CD task's difficulties (Chen and Shi, 2020, "A
spatial-temporal attention-based method and a new dataset for remote
sensing image change detection"):

- small objects: buildings of 4-14 px, new ones built in clusters as in
  new housing, a few demolished;
- few changed pixels: a tile's changed fraction is drawn around 5 %;
- changes that are not change: land cover changes colour and texture with
  the season (vegetation green to brown), the sun moves the buildings'
  shadows, B has its own illumination (per-band gain, offset and a smooth
  haze) and sensor noise, and small cars come and go;
- 1-2 px misregistration: date B is cut from the scene at an offset of up
  to 2 px from A, while the label is A's.

Every sample depends only on ``seed`` and its index.
"""
from dataclasses import dataclass
from typing import NamedTuple, Tuple

import numpy as np
from PIL import Image

# Roof colours (RGB), as seen from above: tiles, concrete, metal, dark.
ROOFS = np.array([[170, 70, 55], [190, 185, 175], [120, 135, 160],
                  [85, 80, 80], [215, 210, 200]], np.float64)
# Land-cover colours (RGB) at the two ends of the seasons: vegetation,
# bare soil, paved ground.
SUMMER = np.array([[70, 110, 50], [150, 125, 95], [120, 120, 115]],
                  np.float64)
WINTER = np.array([[140, 125, 80], [125, 105, 85], [105, 105, 105]],
                  np.float64)
SOIL = 1


@dataclass(frozen=True)
class HardChangeSpec:
    """What the hard pairs are drawn with; the defaults are the preset.

    Args:
        changed_fraction (tuple[float, float]): Range of a tile's target
            changed fraction (uniform); the drawn fraction overshoots it by
            at most one building.
        max_shift (int): B is offset from A by (dy, dx) with
            ``max(|dy|, |dx|)`` in [1, max_shift]; 0 for no misregistration.
        seasonal (bool): Land cover changes colour and texture between
            dates.
        illumination (bool): B has its own gain, offset, haze and sun
            (shadow direction).
        noise (float): Standard deviation of each date's sensor noise.
        cars (bool): Small cars, different in each date, that are not
            change.
    """
    changed_fraction: Tuple[float, float] = (0.01, 0.09)
    max_shift: int = 2
    seasonal: bool = True
    illumination: bool = True
    noise: float = 5.0
    cars: bool = True


class HardPair(NamedTuple):
    """A (H, W, 3) uint8, B (H, W, 3) uint8, label (H, W) uint8 0/255 on
    A's grid, and B's offset (dy, dx): B[y, x] shows A's ground at
    (y + dy, x + dx)."""
    img_a: np.ndarray
    img_b: np.ndarray
    label: np.ndarray
    shift: Tuple[int, int]


def smooth_field(rng: np.random.Generator, size: int, cell: int,
                 channels: int = 1) -> np.ndarray:
    """Random field smooth at scale ``cell``, about N(0, 1), shape
    (size, size, channels)."""
    coarse = rng.normal(0, 1, (channels, size // cell + 3, size // cell + 3))
    side = (size // cell + 3) * cell
    field = np.stack([
        np.asarray(Image.fromarray(c.astype(np.float32)).resize(
            (side, side), Image.BICUBIC)) for c in coarse
    ], -1)
    return field[cell:cell + size, cell:cell + size].astype(np.float64)


def _land_cover(rng, size: int) -> np.ndarray:
    """Class map (size, size): 0 vegetation, 1 soil, 2 paved, plus two
    straight roads (paved) that never change."""
    field = smooth_field(rng, size, 24)[..., 0]
    cover = np.digitize(field, [-0.1, 0.9]).astype(np.uint8)
    for _ in range(2):
        width = int(rng.integers(3, 6))
        pos = int(rng.integers(0, size - width))
        if rng.random() < 0.5:
            cover[pos:pos + width] = 2
        else:
            cover[:, pos:pos + width] = 2
    return cover


def _ground(cover: np.ndarray, season: float,
            texture: np.ndarray) -> np.ndarray:
    """One date's ground (size, size, 3) float: land-cover colours mixed
    between summer and winter by ``season``, plus ``texture`` (size, size,
    3) scaled per land cover (crops and grass the most)."""
    colours = (1 - season) * SUMMER + season * WINTER
    amplitude = np.array([22.0, 10.0, 6.0])[cover][..., None]
    return colours[cover] + texture * amplitude


def _boxes(rng, size: int, count: int, centre=None, spread: float = 0.0):
    """``count`` building footprints (y, x, h, w) of 4-14 px, uniform over
    the tile or clustered around ``centre``."""
    out = []
    for _ in range(count):
        h, w = (int(v) for v in rng.integers(4, 15, 2))
        if centre is None:
            y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        else:
            y, x = np.clip(rng.normal(centre, spread), 0,
                           [size - h, size - w]).astype(int)
        out.append((int(y), int(x), h, w))
    return out


def _draw_buildings(img: np.ndarray, ids: np.ndarray, boxes, roofs,
                    numbers, sun) -> None:
    """Paint shadows cast towards ``sun`` = (dy, dx), then roofs, and
    write each building's number (``numbers``) into ``ids``."""
    dy, dx = sun
    for (y, x, h, w) in boxes:
        y0, x0 = max(y + dy, 0), max(x + dx, 0)
        img[y0:y + h + dy, x0:x + w + dx] *= 0.55
    for (y, x, h, w), roof, number in zip(boxes, roofs, numbers):
        img[y:y + h, x:x + w] = roof
        ids[y:y + h, x:x + w] = number


def _cars(rng, img: np.ndarray, count: int) -> None:
    size = img.shape[0]
    for _ in range(count):
        h, w = (2, 3) if rng.random() < 0.5 else (3, 2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        img[y:y + h, x:x + w] = rng.uniform(20, 240, 3)


def hard_change_pair(seed: int, index: int, size: int = 256,
                     spec: HardChangeSpec = HardChangeSpec()) -> HardPair:
    """Draw one hard pair (see the module docstring).

    The scene is drawn on a canvas ``2 * spec.max_shift`` px larger than
    the tile; A and the label are its centre, B the window offset by the
    drawn shift.

    Args:
        seed (int): Seed of the set.
        index (int): Sample index.
        size (int): Side of the tile.
        spec (HardChangeSpec): What is drawn.

    Returns:
        HardPair: the pair, its label and B's shift.
    """
    rng = np.random.default_rng([seed, index, 7])
    margin = spec.max_shift
    canvas = size + 2 * margin
    cover = _land_cover(rng, canvas)

    # Buildings of both dates, scattered; the changes are new buildings in
    # a cluster (new housing) and some demolished ones (soil in B).
    kept = _boxes(rng, canvas, int(rng.integers(10, 40)))
    target = rng.uniform(*spec.changed_fraction) * size * size
    centre = rng.uniform(0.2, 0.8, 2) * canvas
    built, demolished = [], []
    footprint = np.zeros((canvas, canvas), bool)
    while footprint[margin:margin + size, margin:margin + size].sum() < target:
        new = rng.random() < 0.8
        box = (_boxes(rng, canvas, 1, centre, canvas / 8) if new else
               _boxes(rng, canvas, 1))[0]
        (built if new else demolished).append(box)
        y, x, h, w = box
        footprint[y:y + h, x:x + w] = True
    boxes_a, boxes_b = kept + demolished, kept + built
    # Building numbers: kept ones have the same in both dates.
    numbers_b = np.arange(len(boxes_b))
    numbers_a = np.concatenate([numbers_b[:len(kept)],
                                len(boxes_b) + np.arange(len(demolished))])
    roofs = ROOFS[rng.integers(0, len(ROOFS), len(boxes_b) +
                               len(demolished))]
    roofs = roofs + rng.normal(0, 8, roofs.shape)

    season_a, season_b = rng.uniform(0, 1, 2)
    texture_a = smooth_field(rng, canvas, 3, 3)
    texture_b = smooth_field(rng, canvas, 3, 3)
    if not spec.seasonal:
        season_b, texture_b = season_a, texture_a
    sun_a = tuple(int(v) for v in rng.choice([-2, 2], 2))
    sun_b = tuple(int(v) for v in rng.choice([-2, 2], 2))
    if not spec.illumination:
        sun_b = sun_a

    cover_b = cover.copy()
    for (y, x, h, w) in demolished:
        cover_b[y:y + h, x:x + w] = SOIL
    img_a = _ground(cover, season_a, texture_a)
    img_b = _ground(cover_b, season_b, texture_b)
    ids_a = np.full((canvas, canvas), -1)
    ids_b = np.full((canvas, canvas), -1)
    _draw_buildings(img_a, ids_a, boxes_a, roofs[numbers_a], numbers_a,
                    sun_a)
    _draw_buildings(img_b, ids_b, boxes_b, roofs[numbers_b], numbers_b,
                    sun_b)
    # Changed: a building in one date only, or another building in its
    # place.
    label = ids_a != ids_b
    if spec.cars:
        _cars(rng, img_a, int(rng.integers(5, 25)))
        _cars(rng, img_b, int(rng.integers(5, 25)))

    if spec.illumination:
        gain = rng.uniform(0.75, 1.25, 3)
        offset = rng.uniform(-25, 25, 3)
        haze = smooth_field(rng, canvas, 64) * rng.uniform(5, 15)
        img_b = img_b * gain + offset + haze
    if spec.noise:
        img_a = img_a + rng.normal(0, spec.noise, img_a.shape)
        img_b = img_b + rng.normal(0, spec.noise, img_b.shape)

    shift = (0, 0)
    if spec.max_shift:
        while max(abs(shift[0]), abs(shift[1])) == 0:
            shift = tuple(int(v) for v in rng.integers(
                -spec.max_shift, spec.max_shift + 1, 2))
    dy, dx = shift

    def window(img, oy=0, ox=0):
        return img[margin + oy:margin + oy + size,
                   margin + ox:margin + ox + size]

    def to_uint8(img):
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    return HardPair(
        to_uint8(window(img_a)), to_uint8(window(img_b, dy, dx)),
        window(label).astype(np.uint8) * 255, shift)


def hard_change_sample(seed: int, index: int,
                       size: int) -> Tuple[np.ndarray, np.ndarray,
                                           np.ndarray]:
    """:func:`hard_change_pair` with the preset's spec, as (A, B, label):
    the signature of :func:`seg_plugins.utils.synthetic.change_sample`."""
    return hard_change_pair(seed, index, size)[:3]
