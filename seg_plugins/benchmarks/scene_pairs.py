"""Synthetic GeoTIFF scene pairs the scene benchmarks run on, kept in a
work directory and reused by later runs."""
import os.path as osp
from typing import Dict

# kind: bands and dtype of the pair, and the change config that reads it.
KINDS = dict(rgb8=dict(bands=3, dtype='uint8',
                       config='configs/changedet_unet.py'),
             nir16=dict(bands=4, dtype='uint16',
                        config='configs/changedet_unet_4band_uint16.py'))


def scene_pair(work_dir: str, kind: str, size: int) -> Dict[str, str]:
    """The synthetic pair of ``kind`` and ``size`` in ``work_dir``
    (:func:`~seg_plugins.utils.synthetic_scene.write_scene_pair`, seeded by
    the size), written unless an earlier run left it there.

    Args:
        work_dir (str): where the pairs are kept, one folder per kind and
            size.
        kind (str): a key of :data:`KINDS`.
        size (int): the side of the square scene, pixels.

    Returns:
        dict: paths ``a``, ``b`` and ``label``.
    """
    from seg_plugins.utils.synthetic_scene import scene_paths, write_scene_pair
    out = osp.join(work_dir, f'{kind}_{size}')
    paths = scene_paths(out)
    if all(osp.exists(p) for p in paths.values()):
        return paths
    spec = KINDS[kind]
    return write_scene_pair(out, size, bands=spec['bands'],
                            dtype=spec['dtype'], seed=size)
