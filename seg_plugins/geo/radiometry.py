"""Relative radiometric normalisation of the two dates of a pair.

Two acquisitions of the same ground differ in sun, atmosphere and sensor
state: per band, date B is roughly a gain and an offset (and some
non-linearity) away from date A. A model trained on one pair learns that
pair's mapping between its dates; on a new acquisition it reads the
different mapping as change. Two classical remedies, applied before the
model's own mean/std normalisation:

- ``standardize``: each date's bands are scaled by that date's own mean and
  standard deviation, onto a common target (the model's training
  statistics), so either date has the same per-band mean and spread.
- ``match``: date B's per-band histogram is mapped onto date A's over their
  common valid area (histogram matching, the classical relative
  radiometric normalisation: Schott, Salvaggio and Volchok 1988, "Radiometric
  scene normalization using pseudoinvariant features"; Du, Teillet and
  Cihlar 2002, "Radiometric normalization of multitemporal high-resolution
  satellite images with quality control for land cover change detection").
  Date A is left as it is.

The statistics are those of a whole scene, computed once
(:func:`scene_stats`) from a bounded sample of windows spread over it, valid
pixels of both dates only, and then applied to every tile alike: tiles agree
at their borders, and a tile that is mostly change is not normalised away.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

METHODS = ('none', 'standardize', 'match')
# Quantiles of each band kept for 'match': the 0.5 %..99.5 % range, so that
# a few outliers do not bend the ends; beyond it the mapping goes on with
# the global gain (ratio of standard deviations).
LEVELS = np.linspace(0.005, 0.995, 100)
SAMPLE_WINDOW = 256  # side of each sampled window
MAX_WINDOWS = 8  # per axis: at most 64 windows
SAMPLE_STEP = 4  # every 4th pixel of a window, in rows and columns
_MIN_STD = 1e-6


def check_method(method: str, name: str = 'radiometric') -> str:
    """``method`` if it is one of :data:`METHODS`, else a ValueError naming
    ``name`` (the argument or config field)."""
    if method not in METHODS:
        raise ValueError(f'{name}={method!r}: expected one of '
                         f'{", ".join(METHODS)}')
    return method


@dataclass
class PairStats:
    """Per-band statistics of both dates over their common valid pixels.

    Attributes:
        mean (np.ndarray): (2, C) per date and band, in the data's units.
        std (np.ndarray): (2, C).
        quantiles (np.ndarray): (2, C, len(LEVELS)) at :data:`LEVELS`.
        pixels (int): Valid pixels they were computed from.
    """
    mean: np.ndarray
    std: np.ndarray
    quantiles: np.ndarray
    pixels: int

    def to_dict(self) -> dict:
        """JSON-friendly form (``band_stats.json``), per date A and B."""

        def rounded(x):
            return np.round(x, 3).tolist()

        return {
            date: dict(mean=rounded(self.mean[i]), std=rounded(self.std[i]),
                       quantiles=rounded(self.quantiles[i]))
            for i, date in enumerate('AB')
        } | dict(pixels=int(self.pixels), levels=rounded(LEVELS))

    @classmethod
    def from_dict(cls, d: dict, name: str = 'statistics') -> 'PairStats':
        """Inverse of :meth:`to_dict`; ``name`` goes into errors."""
        try:
            arrays = [np.array([d[date][key] for date in 'AB'], np.float64)
                      for key in ('mean', 'std', 'quantiles')]
            pixels = int(d['pixels'])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{name}: not per-date statistics (A and B, '
                             f'each with mean, std, quantiles): {e}') from None
        if arrays[2].shape[-1] != len(LEVELS):
            raise ValueError(f'{name}: {arrays[2].shape[-1]} quantiles per '
                             f'band, expected {len(LEVELS)}')
        return cls(*arrays, pixels)

    @property
    def channels(self) -> int:
        return self.mean.shape[1]


def reverse_rgb(stats: PairStats) -> PairStats:
    """Statistics of 3 bands between band order and the loader's (B, G, R:
    ``geo/bands.py``); any other band count as it is."""
    if stats.channels != 3:
        return stats
    return PairStats(stats.mean[:, ::-1].copy(), stats.std[:, ::-1].copy(),
                     stats.quantiles[:, ::-1].copy(), stats.pixels)


def pair_stats(img_a: np.ndarray, img_b: np.ndarray,
               valid: Optional[np.ndarray] = None,
               name: str = 'the pair') -> PairStats:
    """Statistics of two dates over the pixels valid in both.

    Args:
        img_a (np.ndarray): (H, W, C) or (N, C) date A, any dtype.
        img_b (np.ndarray): Like ``img_a``, date B.
        valid (np.ndarray, optional): (H, W) or (N, ) bool, True where both
            dates hold data; None: every pixel.
        name (str): Named in the error.

    Raises:
        ValueError: no pixel is valid in both dates.
    """
    channels = img_a.shape[-1]
    a = img_a.reshape(-1, channels)
    b = img_b.reshape(-1, channels)
    if valid is not None:
        keep = valid.reshape(-1)
        a, b = a[keep], b[keep]
    if not len(a):
        raise ValueError(f'{name}: no pixel is valid in both dates, so '
                         'there is nothing to normalise the radiometry on '
                         '(the footprints do not overlap)')
    dates = np.stack([a, b]).astype(np.float64)  # (2, N, C)
    return PairStats(
        mean=dates.mean(1), std=dates.std(1),
        quantiles=np.quantile(dates, LEVELS, axis=1).transpose(1, 2, 0),
        pixels=len(a))


def _starts(length: int, size: int, count: int) -> Sequence[int]:
    """Up to ``count`` window starts spread evenly over ``length``."""
    if length <= size:
        return [0]
    n = min(count, -(-length // size))
    return sorted({int(round(s)) for s in np.linspace(0, length - size, n)})


def scene_stats(pair, window: int = SAMPLE_WINDOW,
                max_windows: int = MAX_WINDOWS,
                step: int = SAMPLE_STEP) -> PairStats:
    """:func:`pair_stats` of a scene pair from a sample of windows.

    At most ``max_windows`` x ``max_windows`` windows of ``window``^2
    pixels, spread evenly over the scene (all of a small one), read as the
    model reads them (``RasterPair.read``: nodata handling, band order)
    and thinned to every ``step``-th pixel: memory is one window, whatever
    the scene's size, and a 4096^2 scene is sampled in a quarter of its
    area.

    Args:
        pair (RasterPair): The open scene pair.

    Raises:
        ValueError: the dates share no valid pixel (naming both files).
    """
    samples_a, samples_b = [], []
    cols = _starts(pair.width, window, max_windows)
    rows = _starts(pair.height, window, max_windows)
    for c in cols:  # top down in each column: rows of blocks are reused
        for r in rows:
            img_a, img_b, valid = pair.read(
                slice(r, min(r + window, pair.height)),
                slice(c, min(c + window, pair.width)))
            thin = np.s_[::step, ::step]
            keep = valid[thin]
            samples_a.append(img_a[thin][keep])
            samples_b.append(img_b[thin][keep])
    return pair_stats(np.concatenate(samples_a), np.concatenate(samples_b),
                      name=f'{pair.paths[0]} and {pair.paths[1]}')


class RadiometricNormalizer:
    """Applies one normalisation with fixed statistics to any window.

    Args:
        method (str): One of :data:`METHODS`.
        stats (PairStats, optional): The scene's (or chip's) statistics;
            needed unless ``method`` is 'none'.
        target_mean (Sequence[float], optional): (C, ) per-band mean that
            'standardize' maps both dates onto, in the loader's channel
            order: the model's training mean, so that its preprocessor
            still applies. None: 0.
        target_std (Sequence[float], optional): (C, ) likewise; None: 1.
    """

    def __init__(self, method: str, stats: Optional[PairStats] = None,
                 target_mean: Optional[Sequence[float]] = None,
                 target_std: Optional[Sequence[float]] = None):
        self.method = check_method(method)
        self.stats = stats
        if method == 'none':
            return
        if stats is None:
            raise ValueError(f'radiometric={method!r} needs the pair\'s '
                             'statistics')
        channels = stats.channels
        self.target_mean = self._target(target_mean, 0.0, channels, 'mean')
        self.target_std = self._target(target_std, 1.0, channels, 'std')
        if method == 'match':
            self._tables = [self._match_table(c) for c in range(channels)]

    @staticmethod
    def _target(values, default, channels, name) -> np.ndarray:
        if values is None:
            return np.full(channels, default)
        values = np.asarray(values, np.float64).reshape(-1)
        if len(values) != channels:
            raise ValueError(f'target {name} has {len(values)} values but '
                             f'the statistics have {channels} bands')
        return values

    def _match_table(self, c: int) -> Tuple[np.ndarray, np.ndarray, float]:
        """Band ``c``'s mapping of B onto A: B's quantiles (strictly
        increasing), A's at the same levels, and the gain beyond them."""
        q_b, q_a = self.stats.quantiles[1, c], self.stats.quantiles[0, c]
        # Flat stretches of B's histogram (integer data) repeat a quantile:
        # one point per distinct value, A's quantiles averaged over it.
        xs, inverse = np.unique(q_b, return_inverse=True)
        ys = np.bincount(inverse, q_a) / np.bincount(inverse)
        gain = self.stats.std[0, c] / max(self.stats.std[1, c], _MIN_STD)
        return xs, ys, gain

    def apply(self, img_a: np.ndarray, img_b: np.ndarray,
              valid: Optional[np.ndarray] = None
              ) -> Tuple[np.ndarray, np.ndarray]:
        """Normalise one window of both dates.

        Args:
            img_a (np.ndarray): (H, W, C) date A, in the statistics' band
                order.
            img_b (np.ndarray): (H, W, C) date B.
            valid (np.ndarray, optional): (H, W) bool; pixels outside it
                (nodata: 0 as the model is shown it) stay 0.

        Returns:
            tuple: A and B, float32 (H, W, C); the inputs themselves under
            'none'.
        """
        if self.method == 'none':
            return img_a, img_b
        if img_a.shape[-1] != self.stats.channels:
            raise ValueError(f'{img_a.shape[-1]} bands given, statistics '
                             f'of {self.stats.channels}')
        if self.method == 'standardize':
            out = [self._standardize(img, i)
                   for i, img in enumerate((img_a, img_b))]
        else:
            out = [img_a.astype(np.float32), self._match(img_b)]
        if valid is not None:
            for img in out:
                img[~valid] = 0
        return out[0], out[1]

    def _standardize(self, img: np.ndarray, date: int) -> np.ndarray:
        std = np.maximum(self.stats.std[date], _MIN_STD)
        scale = self.target_std / std
        shift = self.target_mean - self.stats.mean[date] * scale
        out = img.astype(np.float32)
        out *= scale.astype(np.float32)
        out += shift.astype(np.float32)
        return out

    def _match(self, img: np.ndarray) -> np.ndarray:
        out = np.empty(img.shape, np.float32)
        for c, (xs, ys, gain) in enumerate(self._tables):
            band = img[..., c].astype(np.float64)
            mapped = np.interp(band, xs, ys)
            low, high = band < xs[0], band > xs[-1]
            mapped[low] = ys[0] + (band[low] - xs[0]) * gain
            mapped[high] = ys[-1] + (band[high] - xs[-1]) * gain
            out[..., c] = mapped
        return out
