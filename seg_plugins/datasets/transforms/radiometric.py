"""A new radiometry for each date of a pair, in the data's own units.

mmseg's ``PhotoMetricDistortion`` clips to 0..255, returns uint8 and
assumes 3-channel BGR; a model of uint16 or multi-band imagery gets no
photometric augmentation from it. Trained on one scene pair without any,
a change model learns that pair's mapping between its dates (their gains
and offsets) instead of change, and on a new acquisition calls everything
changed. This transform draws, independently for each date, what
separates two acquisitions: per-band gain and bias, gamma, band-correlated
and independent noise, and optionally haze.
"""
from numbers import Number
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

BIAS_UNITS = ('mean', 'std', 'dn')
Range = Tuple[float, float]


def _range(value, name: str, low: Optional[float] = None,
           strict: bool = False) -> Range:
    """A (low, high) range from a pair (or a number: (0, number) for noise
    and haze), checked to be ordered and above ``low``; errors name the
    argument."""
    if isinstance(value, Number):
        value = (0.0, float(value))
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'RandomRadiometric {name}={value!r}: expected a '
                         '(low, high) pair of numbers') from None
    if lo > hi:
        raise ValueError(f'RandomRadiometric {name}={value!r}: low > high')
    if low is not None and (lo <= low if strict else lo < low):
        bound = f'> {low:g}' if strict else f'>= {low:g}'
        why = {
            'gain': ': a gain <= 0 flips the sign of a band or erases it',
            'gamma': ': a gamma <= 0 inverts or flattens the band',
        }.get(name, '')
        raise ValueError(f'RandomRadiometric {name}={value!r}: both ends '
                         f'must be {bound}{why}')
    return lo, hi


def _band_stats(img: np.ndarray, valid: Optional[np.ndarray]):
    """Per-band mean, std, min and max of ``img`` (H, W, C) over
    ``valid`` (H, W, C) (None: all), as float32 (C, ) arrays."""
    x = img.astype(np.float32)
    if valid is None:
        flat = x.reshape(-1, x.shape[-1])
        return flat.mean(0), flat.std(0), flat.min(0), flat.max(0)
    stats = np.zeros((4, x.shape[-1]), np.float32)
    for c in range(x.shape[-1]):
        band = x[..., c][valid[..., c]]
        if band.size:
            stats[:, c] = band.mean(), band.std(), band.min(), band.max()
    return tuple(stats)


@TRANSFORMS.register_module()
class RandomRadiometric(BaseTransform):
    """Per-date random radiometry for images of any dtype and band count.

    Each date (``keys``) draws its own parameters, per band, from numpy's
    global RNG (which mmengine seeds, as for mmcv's transforms), and its
    valid values become::

        x1 = lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma
        x2 = gain * x1 + bias + haze + noise

    with ``lo``, ``hi`` the band's range over the image's valid pixels.

    ``bias`` is in ``bias_units`` of the band (its mean or std over the
    image's valid pixels, or digital numbers), ``noise`` is the sum of a
    field shared by all bands (``correlated_noise``, sensor and
    atmospheric structure) and one per band (``noise``), both as
    fractions of the band's std. ``haze`` adds to each band a fraction of
    the image's mean in its shortest-wavelength band, scaled by
    ``(shortest / wavelength) ** haze_exponent``: more in blue than in the
    near infrared. Values equal to ``nodata`` (what the loader gives where
    a band holds no data) are left as they are. The dtype is kept:
    integers are rounded and clipped to the dtype's range (and kept off the
    nodata value when it is the range's end), floats stay floats; nothing
    is clipped to 8 bits. Put it before ``ConcatCDInput``, where the dates
    are separate images; the model's preprocessor normalises afterwards.

    The defaults cover what separates two acquisitions after standard
    processing: gain 0.75-1.25 and bias +-15 % of the band mean per band
    contain the between-date differences measured on a Sentinel-2 10 m
    pair (offsets near +-140 DN, about 10 % of the band mean, of opposite
    sign on the same band; issue 32) and the range that
    ``tools/analysis/benchmark_radiometry.py`` tests held-out pairs at
    (gain +-20 %, offset +-10 % of the band mean), with a margin so that
    the held-out draws are inside the training distribution (at that
    range's corners a short training still falls short: see
    docs/en/user_guides/radiometry.md); gamma
    0.85-1.15 and a few per cent of noise stand for the non-linear part
    (sun and view angles, adjacency) that a gain and an offset leave.

    Args:
        gain (tuple[float, float]): Per-band multiplicative gain range;
            both ends > 0. Default: (0.75, 1.25).
        bias (tuple[float, float]): Per-band additive bias range, in
            ``bias_units``. Default: (-0.15, 0.15).
        bias_units (str): 'mean' or 'std' (fractions of the band's
            statistic over the image's valid pixels), or 'dn' (absolute,
            in the data's units). Default: 'mean'.
        gamma (tuple[float, float]): Per-band gamma range, > 0; (1, 1)
            turns it off. Default: (0.85, 1.15).
        noise (float | tuple[float, float]): Range of the std of the
            independent per-band noise, as a fraction of the band's std.
            Default: (0, 0.05).
        correlated_noise (float | tuple[float, float]): Likewise for the
            field shared by all bands. Default: (0, 0.05).
        haze (float | tuple[float, float]): Range of the haze offset in the
            shortest-wavelength band, as a fraction of that band's mean;
            needs ``wavelengths``. Default: 0 (off).
        wavelengths (Sequence[float], optional): Centre wavelength of each
            channel in the loader's order (3-band rasters come reversed,
            B, G, R: ``seg_plugins/geo/bands.py``), any unit.
        haze_exponent (float): How fast haze falls with wavelength
            (Angstrom exponent; about 1-2 for aerosols, 4 for Rayleigh
            scattering). Default: 1.5.
        prob (float): Probability that a date is changed at all.
            Default: 1.0.
        nodata (float, optional): Value left untouched (the loader's 0
            where a band holds no data). None: every value is data.
            Default: 0.
        keys (Sequence[str]): The dates. Default: ('img', 'img2').
    """

    def __init__(self,
                 gain: Range = (0.75, 1.25),
                 bias: Range = (-0.15, 0.15),
                 bias_units: str = 'mean',
                 gamma: Range = (0.85, 1.15),
                 noise=(0.0, 0.05),
                 correlated_noise=(0.0, 0.05),
                 haze=0.0,
                 wavelengths: Optional[Sequence[float]] = None,
                 haze_exponent: float = 1.5,
                 prob: float = 1.0,
                 nodata: Optional[float] = 0,
                 keys: Sequence[str] = ('img', 'img2')):
        self.gain = _range(gain, 'gain', 0.0, strict=True)
        self.bias = _range(bias, 'bias')
        if bias_units not in BIAS_UNITS:
            raise ValueError(f'RandomRadiometric bias_units={bias_units!r}: '
                             f'expected one of {BIAS_UNITS}')
        self.bias_units = bias_units
        self.gamma = _range(gamma, 'gamma', 0.0, strict=True)
        self.noise = _range(noise, 'noise', 0.0)
        self.correlated_noise = _range(correlated_noise, 'correlated_noise',
                                       0.0)
        self.haze = _range(haze, 'haze', 0.0)
        if self.haze[1] > 0:
            if not wavelengths or min(wavelengths) <= 0:
                raise ValueError(
                    f'RandomRadiometric haze={haze!r} needs wavelengths= '
                    f'(> 0, one per channel), got {wavelengths!r}')
        self.wavelengths = (None if wavelengths is None else np.asarray(
            wavelengths, np.float32))
        self.haze_exponent = float(haze_exponent)
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomRadiometric prob={prob!r}: expected a '
                             'probability in [0, 1]')
        self.prob = prob
        self.nodata = nodata
        self.keys = tuple(keys)

    def _draw(self, rng_range: Range, channels: int) -> np.ndarray:
        return np.random.uniform(*rng_range, channels).astype(np.float32)

    def _haze(self, mean: np.ndarray, channels: int) -> np.ndarray:
        """(C, ) haze offsets of one draw (zeros when off)."""
        if self.haze[1] <= 0:
            return np.zeros(channels, np.float32)
        if len(self.wavelengths) != channels:
            raise ValueError(
                f'RandomRadiometric wavelengths has {len(self.wavelengths)} '
                f'values, the image {channels} channels')
        shortest = int(np.argmin(self.wavelengths))
        amount = np.random.uniform(*self.haze) * mean[shortest]
        return (amount * (self.wavelengths[shortest] / self.wavelengths)
                ** self.haze_exponent).astype(np.float32)

    def apply(self, img: np.ndarray) -> np.ndarray:
        """One date (H, W, C) or (H, W), any dtype -> the same shape and
        dtype with a new radiometry."""
        squeeze = img.ndim == 2
        x3 = img[..., None] if squeeze else img
        channels = x3.shape[-1]
        valid = None if self.nodata is None else x3 != self.nodata
        mean, std, lo, hi = _band_stats(x3, valid)
        x = x3.astype(np.float32)
        gamma = self._draw(self.gamma, channels)
        span = np.maximum(hi - lo, 1e-6)
        x = lo + span * np.power(np.clip((x - lo) / span, 0, None), gamma)
        unit = dict(mean=np.abs(mean), std=std,
                    dn=np.ones(channels, np.float32))[self.bias_units]
        x *= self._draw(self.gain, channels)
        x += self._draw(self.bias, channels) * unit + self._haze(mean,
                                                                 channels)
        shared = np.random.uniform(*self.correlated_noise)
        if shared > 0:
            x += np.random.standard_normal(x.shape[:2] + (1, )).astype(
                np.float32) * (shared * std)
        sigma = self._draw(self.noise, channels) * std
        if sigma.any():
            x += np.random.standard_normal(x.shape).astype(np.float32) * sigma
        out = self._to_dtype(x, img.dtype)
        if valid is not None:
            out = np.where(valid, out, x3)
        return out[..., 0] if squeeze else out

    def _to_dtype(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Round and clip integers to the dtype's range (kept off the
        nodata value at either end); floats keep their type."""
        dtype = np.dtype(dtype)
        if dtype.kind == 'f':
            info = np.finfo(dtype)
            return np.clip(x, info.min, info.max).astype(dtype)
        info = np.iinfo(dtype)
        lo, hi = float(info.min), float(info.max)
        if self.nodata is not None and self.nodata == lo:
            lo += 1
        if self.nodata is not None and self.nodata == hi:
            hi -= 1
        return np.clip(np.rint(x), lo, hi).astype(dtype)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            if np.random.rand() < self.prob:
                results[key] = self.apply(results[key])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(gain={self.gain}, '
                f'bias={self.bias}, bias_units={self.bias_units!r}, '
                f'gamma={self.gamma}, noise={self.noise}, '
                f'correlated_noise={self.correlated_noise}, '
                f'haze={self.haze}, nodata={self.nodata}, '
                f'keys={self.keys})')
