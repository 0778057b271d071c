"""Tiny georeferenced scenes (real GeoTIFFs written with rasterio) and a
tiny change model with a locally written checkpoint."""
from pathlib import Path
from typing import Optional

import numpy as np
import rasterio
from rasterio.transform import from_origin

from tests.conftest import REPO

CRS = 'EPSG:32631'  # UTM 31N: projected, metres
PIXEL = 0.5  # metres
ORIGIN = (500000.0, 4500000.0)
# The demo's change U-Net shrunk to 4 base channels and 3 stages.
TINY_CONFIG = f"""_base_ = ['{REPO}/configs/changedet_demo.py']
model = dict(
    backbone=dict(base_channels=4, num_stages=3),
    decode_head=dict(in_channels=4))
"""


def transform(shift_cols: int = 0, shift_rows: int = 0):
    """A's geotransform, or one moved by whole pixels (east, south)."""
    return from_origin(ORIGIN[0] + shift_cols * PIXEL,
                       ORIGIN[1] - shift_rows * PIXEL, PIXEL, PIXEL)


def write_tif(path: Path, bands: np.ndarray, crs: Optional[str] = CRS,
              geotransform=None, nodata=None,
              mask: Optional[np.ndarray] = None, **profile) -> Path:
    """A GeoTIFF of ``bands`` (C, H, W), tiled 64^2 unless ``profile``
    says otherwise; ``mask`` (H, W) bool is written as an internal mask
    (True valid)."""
    c, h, w = bands.shape
    kwargs = dict(driver='GTiff', width=w, height=h, count=c,
                  dtype=bands.dtype, nodata=nodata, tiled=True,
                  blockxsize=64, blockysize=64)
    kwargs.update(profile)
    if not kwargs['tiled']:  # strips: as wide as the raster
        del kwargs['blockxsize']
    if crs is not None:
        kwargs.update(crs=crs, transform=geotransform or transform())
    with rasterio.open(path, 'w', **kwargs) as dst:
        dst.write(bands)
        if mask is not None:
            dst.write_mask(mask.astype(np.uint8) * 255)
    return Path(path)


def scene_bands(h: int, w: int, seed: int, count: int = 3,
                dtype=np.uint8) -> np.ndarray:
    """(count, h, w) smooth random bands (changes of the tiny random model
    then come in blobs, not salt and pepper)."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((count, h // 8 + 2, w // 8 + 2))
    fine = np.kron(coarse, np.ones((8, 8)))[:, :h, :w]
    noise = rng.random((count, h, w)) * 0.2
    top = 250 if dtype == np.uint8 else 4000
    return ((fine + noise) / 1.2 * top + 1).astype(dtype)


def assert_same_raster(path: Path, ref: Path) -> None:
    """``path`` holds ``ref``'s pixels and mask (band 1: the scene
    outputs have one band)."""
    with rasterio.open(path) as got, rasterio.open(ref) as want:
        np.testing.assert_array_equal(got.read(1), want.read(1))
        np.testing.assert_array_equal(got.read_masks(1), want.read_masks(1))


def write_tiny_model(root: Path):
    """The tiny config and a checkpoint of its random init (mmengine's
    format: state_dict + meta)."""
    import torch

    from seg_plugins.apis import init_change_model
    config = root / 'tiny_cd.py'
    config.write_text(TINY_CONFIG)
    torch.manual_seed(0)
    model = init_change_model(str(config))
    _calibrate(model)
    ckpt = root / 'tiny_cd.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(
                        classes=('unchanged', 'changed'),
                        palette=[[0, 0, 0], [255, 255, 255]]))), ckpt)
    return config, ckpt


def _calibrate(model) -> None:
    """Move the random head's bias to the median logit of a scene-like
    pair, so that the map has changed and unchanged regions (a random
    init alone calls nearly every pixel one or the other)."""
    import torch

    from seg_plugins.apis.change_inference import predict_tiles
    head = model.decode_head.conv_seg
    logits = []
    hook = head.register_forward_hook(lambda m, i, o: logits.append(o))
    pair = np.concatenate([scene_bands(64, 64, s) for s in (11, 12)])
    predict_tiles(model, [pair.transpose(1, 2, 0)])
    hook.remove()
    with torch.no_grad():
        head.bias -= logits[0].median()
        head.weight *= 10
        head.bias *= 10
