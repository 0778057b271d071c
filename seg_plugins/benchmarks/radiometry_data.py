"""The radiometry benchmark's data: a training pair cut into chips and test
scene pairs whose date B is date A under a per-band gain and offset.

``tools/analysis/benchmark_radiometry.py`` trains on the chips and scores
every test pair. The scenes are synthetic 4-band uint16 pairs
(:mod:`seg_plugins.utils.synthetic_scene`, 40 DN per level); the training
pair and the same-draw test pair share one draw of B's radiometry, each
held-out pair draws its own.
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

GAIN, OFFSET = 0.20, 0.10  # held-out range: gain 1 +- 20 %, offset +- 10 %
BANDS = 4


def band_means(seed: int, bands: int = BANDS) -> np.ndarray:
    """Date A's mean per band over a 256 x 256 window of a synthetic scene.

    Args:
        seed (int): the scene's seed.
        bands (int): how many bands.

    Returns:
        np.ndarray: shape (bands, ), in uint8 levels.
    """
    from seg_plugins.utils.synthetic_scene import render_window
    img_a, _, _ = render_window(seed, 0, 0, 256, 256, np.ones(bands),
                                np.zeros(bands))
    return img_a.reshape(-1, bands).mean(0)


def draw_radiometry(rng: np.random.Generator,
                    means: np.ndarray) -> List[List[float]]:
    """One acquisition of B: per-band gain and offset.

    Args:
        rng (np.random.Generator): where the draw comes from.
        means (np.ndarray): shape (bands, ), the band means (uint8 levels).

    Returns:
        list[list[float]]: ``[gain, offset]``, each one value per band: gain
        in 1 +- :data:`GAIN`, offset in +- :data:`OFFSET` of the band's
        mean (uint8 levels).
    """
    gain = 1 + rng.uniform(-GAIN, GAIN, len(means))
    offset = rng.uniform(-OFFSET, OFFSET, len(means)) * means
    return [gain.round(4).tolist(), offset.round(3).tolist()]


def write_data(root: str, draws: int = 4, train_size: int = 640,
               test_size: int = 256, chip: int = 64, seed: int = 0,
               radiometry: Optional[Dict[str, list]] = None) -> dict:
    """The training chips and the test scenes, written under ``root``.

    The training pair goes through the chip writer of ``scenes2chips.py``
    (its ``band_stats.json``: pooled mean/std for the preprocessor,
    per-scene statistics for ``RadiometricNormalize``); the chip report is
    printed.

    Args:
        root (str): the folder to write in.
        draws (int): held-out pairs drawn when ``radiometry`` is None.
        train_size (int): side of the training scene, pixels.
        test_size (int): side of each test scene, pixels.
        chip (int): side of a training chip, pixels.
        seed (int): seed of the scenes and of the draws.
        radiometry (dict, optional): B's (gain, offset) per test pair,
            offsets as fractions of the band means: 'same-draw' (also the
            training pair's) and held-out ones; None: drawn (``draws``
            held-out pairs).

    Returns:
        dict: ``chips`` (folder), ``stats`` (its band_stats.json),
        ``tests``: [(name, paths)], first the same-draw pair, then the
        held-out ones; ``radiometry``: {name: (gain, offset)}, offsets in
        uint8 levels.
    """
    from seg_plugins.geo.chips import ChipOptions
    from seg_plugins.geo.chips_dataset import write_chip_dataset
    from seg_plugins.utils.synthetic_scene import write_scene_pair
    rng = np.random.default_rng([seed, 32])
    train_seed, test_seed = seed * 2 + 1, seed * 2 + 2
    means = band_means(train_seed)
    if radiometry is not None:
        radiometry = {name: [list(gain), (np.asarray(offset) * means).tolist()]
                      for name, (gain, offset) in radiometry.items()}
    else:
        radiometry = {'same-draw': draw_radiometry(rng, means)}
        radiometry.update({f'held-out{i + 1}': draw_radiometry(rng, means)
                           for i in range(draws)})
    train_draw = radiometry['same-draw']
    scene = write_scene_pair(osp.join(root, 'train'), train_size, BANDS,
                             'uint16', seed=train_seed,
                             b_radiometry=train_draw, prefix='train')
    chips = osp.join(root, 'chips')
    report = write_chip_dataset([(scene['a'], scene['b'], scene['label'])],
                                chips, ChipOptions(size=chip),
                                val_fraction=0)
    print('\n'.join(report.lines()))
    tests = [(name, write_scene_pair(osp.join(root, name), test_size, BANDS,
                                     'uint16', seed=test_seed,
                                     b_radiometry=draw, prefix=name))
             for name, draw in radiometry.items()]
    return dict(chips=chips, stats=osp.join(chips, 'band_stats.json'),
                tests=tests, radiometry=radiometry)
