"""Relative radiometric normalisation of a pair in the data pipeline: the
same ``standardize`` / ``match`` that scene inference applies
(``seg_plugins/geo/radiometry.py``), so a model is trained on what it will
be shown."""
import json
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...geo.radiometry import (
    PairStats,
    RadiometricNormalizer,
    check_method,
    pair_stats,
    reverse_rgb,
)


def chip_scene(path: str) -> str:
    """The scene a chip of ``scenes2chips.py`` was cut from: its name less
    ``_<row>_<col>``."""
    stem = osp.splitext(osp.basename(path))[0]
    parts = stem.rsplit('_', 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0]
    return stem


@TRANSFORMS.register_module()
class RadiometricNormalize(BaseTransform):
    """Normalise the radiometry of ``img`` and ``img2`` (see
    :mod:`seg_plugins.geo.radiometry`).

    The statistics are those of the chip's whole scene when ``stats_file``
    gives them (``band_stats.json`` of ``scenes2chips.py``, under
    ``scenes``; a chip is found by its name, ``<scene>_<row>_<col>``), as
    scene inference computes them; otherwise those of the pair itself
    (valid pixels: where some band differs from ``nodata`` in both dates).
    Put it after the loading (and any ``RandomRadiometric``) and before
    ``ConcatCDInput``; the images come out float32 with nodata pixels 0.

    Args:
        method (str): 'none', 'standardize' or 'match'.
        mean (Sequence[float], optional): Per-band mean that 'standardize'
            maps each date onto, in the loader's channel order: the
            preprocessor's ``mean`` (for 3 bands with ``bgr_to_rgb``,
            reversed), so that it still applies. None: 0.
        std (Sequence[float], optional): Likewise; None: 1.
        stats_file (str, optional): ``band_stats.json`` with per-scene
            statistics.
        nodata (float): The loader's value where a band holds no data.
            Default: 0.
    """

    def __init__(self, method: str = 'standardize',
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 stats_file: Optional[str] = None, nodata: float = 0):
        self.method = check_method(method, 'RadiometricNormalize method')
        self.mean, self.std = mean, std
        self.stats_file = stats_file
        self.nodata = nodata
        self.scenes = None
        if stats_file is not None:
            with open(stats_file) as f:
                scenes = json.load(f).get('scenes')
            if not scenes:
                raise ValueError(
                    f'{stats_file} has no per-scene statistics ("scenes"):'
                    ' write it with this version of scenes2chips.py, or '
                    'leave stats_file out to use each pair\'s own')
            self.scenes = {
                name: reverse_rgb(PairStats.from_dict(d, f'{stats_file}: '
                                                      f'scene {name}'))
                for name, d in scenes.items()
            }
        self._normalizers = {}

    def _stats(self, results: dict, valid: np.ndarray) -> PairStats:
        if self.scenes is None:
            return pair_stats(results['img'], results['img2'], valid,
                              name=results.get('img_path', 'the pair'))
        scene = chip_scene(results['img_path'])
        if scene not in self.scenes:
            raise ValueError(
                f'{results["img_path"]}: scene {scene!r} is not in '
                f'{self.stats_file} (scenes: {sorted(self.scenes)[:5]})')
        return self.scenes[scene]

    def transform(self, results: dict) -> dict:
        if self.method == 'none':
            return results
        img_a, img_b = results['img'], results['img2']
        valid = ((img_a != self.nodata).any(-1) &
                 (img_b != self.nodata).any(-1))
        stats = self._stats(results, valid)
        key = None if self.scenes is None else id(stats)
        norm = self._normalizers.get(key) if key is not None else None
        if norm is None:
            norm = RadiometricNormalizer(self.method, stats, self.mean,
                                         self.std)
            if key is not None:
                self._normalizers[key] = norm
        results['img'], results['img2'] = norm.apply(img_a, img_b, valid)
        results['radiometric'] = self.method
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(method={self.method!r}, '
                f'stats_file={self.stats_file!r})')
