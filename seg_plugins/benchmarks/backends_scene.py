"""The backends benchmark's scene path (``tools/analysis/benchmark_backends.py
--scene``): the change U-Net end to end on a random pair with each
backend."""
import os.path as osp
import time
from typing import Dict, List, Tuple

import numpy as np
import torch

from .backends_families import FAMILIES


def write_pair(tmp: str, size: int) -> List[str]:
    """A random ``size`` x ``size`` 3-band uint8 GeoTIFF pair (rasterio),
    tiled in 512 x 512 blocks, written block row by block row.

    Args:
        tmp (str): the folder to write ``scene_A.tif`` and
            ``scene_B.tif`` to.
        size (int): the side, pixels.

    Returns:
        list[str]: the paths of A and B.
    """
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.default_rng(0)
    paths = []
    for name in ('A', 'B'):
        path = osp.join(tmp, f'scene_{name}.tif')
        profile = dict(driver='GTiff', width=size, height=size, count=3,
                       dtype='uint8', crs='EPSG:32631', tiled=True,
                       blockxsize=512, blockysize=512,
                       transform=from_origin(500000, 5000000, 0.5, 0.5))
        with rasterio.open(path, 'w', **profile) as dst:
            for row in range(0, size, 512):
                h = min(512, size - row)
                block = rng.integers(0, 256, (3, h, size), dtype=np.uint8)
                dst.write(block, window=((row, row + h), (0, size)))
        paths.append(path)
    return paths


def scene_backends(ckpt: str,
                   onnx_file: str) -> List[Tuple[str, str, str, str]]:
    """The scene path's runs: eager fp32, channels_last and bf16, ONNX
    Runtime and, if installed, OpenVINO fp32 and bf16.

    Args:
        ckpt (str): the PyTorch checkpoint of the eager rows.
        onnx_file (str): the exported graph of the other rows.

    Returns:
        list[tuple]: ``(row name, weights, backend, precision)``.
    """
    runs = [('eager', ckpt, 'pytorch', 'fp32'),
            ('eager channels_last', ckpt, 'pytorch', 'fp32'),
            ('eager bf16', ckpt, 'pytorch', 'bf16'),
            ('onnxruntime', onnx_file, 'onnxruntime', 'fp32')]
    try:
        import openvino  # noqa: F401
        runs += [('openvino fp32', onnx_file, 'openvino', 'fp32'),
                 ('openvino bf16', onnx_file, 'openvino', 'bf16')]
    except ImportError:
        pass
    return runs


def bench_scene(size: int, threads: int,
                tmp: str) -> Tuple[Dict[str, float], str]:
    """The scene path end to end with each backend (the change U-Net,
    random weights, one run each): ``infer_change_scene`` reading and
    writing GeoTIFFs when it exists, else ``infer_change`` on in-memory
    arrays.

    Args:
        size (int): the side of the random pair, pixels.
        threads (int): unused; torch's threads are set by the caller.
        tmp (str): a folder for the pair, the weights, the graph and the
            outputs.

    Returns:
        tuple: seconds per backend, and the path's function name.
    """
    from mmseg.apis import init_model

    from seg_plugins import apis
    from seg_plugins.apis import init_change_model
    from seg_plugins.deploy import export_model, load_model
    config = FAMILIES['change_unet'][0]
    cfg, model, _ = load_model(config)
    onnx_file = osp.join(tmp, 'scene.onnx')
    export_model(cfg, model, onnx_file, (256, 256), dynamic=True)
    ckpt = osp.join(tmp, 'scene.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    scene = getattr(apis, 'infer_change_scene', None)
    if scene is not None:
        path_a, path_b = write_pair(tmp, size)
    else:
        rng = np.random.default_rng(0)
        img_a, img_b = (rng.integers(0, 256, (size, size, 3), np.uint8)
                        for _ in range(2))
    results = {}
    for backend, weights, kind, precision in scene_backends(ckpt, onnx_file):
        if backend == 'eager':  # init_change_model minus channels_last
            net = init_model(config, weights, device='cpu')
        else:
            net = init_change_model(config, weights, backend=kind,
                                    precision=precision)
        start = time.perf_counter()
        if scene is not None:
            scene(net, path_a, path_b,
                  osp.join(tmp, f'{backend.replace(" ", "_")}.tif'),
                  tile=256, overlap=32, batch_size=4, overwrite=True)
        else:
            apis.infer_change(net, img_a, img_b, 256, 32, 4)
        results[backend] = time.perf_counter() - start
    return results, ('infer_change_scene' if scene is not None else
                     'infer_change')
