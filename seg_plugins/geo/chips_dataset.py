"""A chip dataset from scene pairs: every scene's chips, the splits and the
band statistics of the train chips, in the LEVIR-CD layout::

    <out>/<split>/A/<name>.tif  <out>/<split>/B/<name>.tif
    <out>/<split>/label/<name>.tif     (0/1, nodata 255)
    <out>/band_stats.json

A scene given a split sends all its chips there; the chips of the other
scenes are shuffled (seeded) and split by fractions. Neighbouring chips look
alike: for an honest score hold out whole scenes. Chips are written into a
staging folder and moved into place at the end, so a stopped run leaves no
half dataset (and the next run clears what it left).
"""
import json
import os
import os.path as osp
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import rasterio

from .band_stack import date_files
from .chips import (
    FOLDERS,
    ChipOptions,
    ChipTally,
    ChipWriter,
    chip_scene,
    scene_stem,
)
from .chips_labels import ChipError
from .remote import remote_config

SPLITS = ('train', 'val', 'test')


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


def band_stats(sums: Sequence[np.ndarray]) -> Tuple[list, list]:
    """Per-band mean and std from :func:`~seg_plugins.geo.chips.band_sums`
    of many chips."""
    n, s, ss = np.sum(sums, 0)
    mean = s / n
    std = np.sqrt(np.maximum(ss / n - mean * mean, 0))
    return ([round(float(m), 3) for m in mean],
            [round(float(v), 3) for v in std])


@dataclass
class ChipReport:
    """What :func:`write_chip_dataset` wrote.

    Attributes:
        out (str): The dataset's folder.
        options (ChipOptions): How the scenes were cut.
        splits (dict): chip name -> 'train', 'val' or 'test'.
        counts (Counter): 'skipped' chips (mostly nodata) and 'nodata_px'
            in the kept ones.
        stats (dict): The content of ``band_stats.json``; empty when no
            chip was kept (and the file not written).
    """

    out: str
    options: ChipOptions
    splits: Dict[str, str]
    counts: Counter
    stats: dict = field(default_factory=dict)

    def lines(self) -> List[str]:
        """The summary a user reads: chips per split, what was skipped,
        and the band statistics for the config."""
        counts = Counter(self.splits.values())
        lines = [
            f'wrote {len(self.splits)} chips to {self.out}: ' + ', '.join(
                f'{s} {counts[s]}' for s in SPLITS if counts[s]),
            f'skipped {self.counts["skipped"]} chips with more than '
            f'{self.options.max_nodata:.0%} nodata'
        ]
        if self.counts['nodata_px']:
            how = ('labelled unchanged (0): PNG has no nodata'
                   if self.options.fmt == 'png' else 'labelled 255 (ignored)')
            lines.append(f'{self.counts["nodata_px"]} nodata pixels in the '
                         f'kept chips, {how}')
        if not self.stats:
            return lines
        mean, std = self.stats['mean'], self.stats['std']
        lines += [
            'per-band mean/std of the train chips (valid pixels, A and B; '
            f'band order; {self.out}/band_stats.json), for the config\'s '
            f'data_preprocessor:', f'  mean={mean}', f'  std={std}',
            '  per date: ' + ', '.join(f'{k}={self.stats[k]}'
                                       for k in ('mean_A', 'mean_B'))
        ]
        if self.options.fmt == 'png' or len(mean) == 3:
            lines.append('  (3-band chips load reversed, as B, G, R, and a '
                         'preprocessor with bgr_to_rgb=True turns them back '
                         'to band order: use these lists with it)')
        return lines


def _clear_stopped_run(out: str, staging: str) -> None:
    """Remove the staging folder of a stopped run; refuse any other
    content of ``out``."""
    if osp.isdir(out) and os.listdir(out) == ['.staging']:
        # Only a stopped run's chips, never moved into place: start over.
        print(f'removing {staging}, left by a run that was stopped')
        shutil.rmtree(staging)
    if osp.isdir(out) and os.listdir(out):
        why = (' (a run stopped while moving its chips into place: remove '
               'it and run again)' if osp.isdir(staging) else '')
        raise ChipError(f'{out} is not empty{why}; scenes2chips writes into '
                        'a new (or empty) folder')


def _band_stats_file(splits: Dict[str, str], tally: ChipTally) -> dict:
    """``band_stats.json``: pooled and per-date statistics of the train
    chips (all chips when none is in train), and each scene's."""
    train = [n for n, s in splits.items() if s == 'train'] or list(
        tally.sums)
    mean, std = band_stats([tally.sums[n] for n in train])
    per_date = {}
    for i, date in enumerate('AB'):
        per_date[f'mean_{date}'], per_date[f'std_{date}'] = band_stats(
            [tally.date_sums[n][i] for n in train])
    return dict(mean=mean, std=std, bands='band order of the files',
                over='valid pixels of A and B in the train chips',
                **per_date, scenes=tally.radiometry)


def write_chip_dataset(scenes: Sequence[Sequence[str]], out: str,
                       options: Optional[ChipOptions] = None,
                       val_fraction: float = 0.1, test_fraction: float = 0.0,
                       seed: int = 0) -> ChipReport:
    """Cut scene pairs into a chip dataset under ``out``.

    Args:
        scenes (Sequence[Sequence[str]]): Per scene A, B, the change label
            (raster on A's grid, or polygons) and optionally the split of
            all its chips. A date may be any GDAL-readable location or band
            files (``geo/band_stack.py``).
        out (str): A new or empty folder (or one a stopped run left).
        options (ChipOptions, optional): How to cut; default
            ``ChipOptions()``.
        val_fraction (float): Share of the shuffled chips for val.
        test_fraction (float): Share of the shuffled chips for test.
        seed (int): Seed of the shuffle.

    Returns:
        ChipReport: The splits, counts and band statistics.

    Raises:
        ChipError: ``out`` is not empty, two scenes' chips would share
            names, or (also ``ValueError``) a scene is unreadable or its
            files do not fit together; nothing is left under ``out``.
    """
    options = options or ChipOptions()
    out = os.fspath(out)
    staging = osp.join(out, '.staging')
    _clear_stopped_run(out, staging)
    stems = [scene_stem(s[0]) for s in scenes]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise ChipError(f'scenes whose A files share a name ({dup}): chips '
                        'are named after A, rename one')
    writer = ChipWriter(staging, options.fmt)
    tally, fixed, shuffled = ChipTally(), {}, []
    try:
        for scene in scenes:
            files = date_files(scene[0]) + date_files(scene[1]) + [
                scene[2]]
            with rasterio.Env(**remote_config(*files)):  # remote scenes
                names = chip_scene(options, scene, writer, tally)
            if len(scene) == 4:
                fixed.update({n: scene[3] for n in names})
            else:
                shuffled += names
    except ValueError:  # ChipError, GridMismatchError, open errors
        shutil.rmtree(out, ignore_errors=True)
        raise
    splits = dict(fixed, **assign_splits(shuffled, val_fraction,
                                         test_fraction, seed))
    for split in set(splits.values()):
        for folder in FOLDERS:
            os.makedirs(osp.join(out, split, folder), exist_ok=True)
    for name, split in splits.items():
        for folder in FOLDERS:
            os.replace(writer.path(folder, name),
                       osp.join(out, split, folder, f'{name}.{options.fmt}'))
    shutil.rmtree(staging)
    report = ChipReport(out, options, splits, tally.counts)
    if splits:
        report.stats = _band_stats_file(splits, tally)
        with open(osp.join(out, 'band_stats.json'), 'w') as f:
            json.dump(report.stats, f, indent=1)
    return report
