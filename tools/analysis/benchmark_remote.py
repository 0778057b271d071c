r"""Bytes a remote scene costs: a change map of a COG pair read over HTTP
(range requests, from a server on 127.0.0.1 that counts what it sends)
against the files' sizes, and its time against the same pair read
locally.

For each size a synthetic 3-band uint8 pair (``write_scene_pair``) is
written as COGs (deflate, 512^2 blocks, with overviews) and run through
``infer_change_scene`` with a small random change U-Net, locally and
then over HTTP under ``geo/remote.py``'s GDAL settings; the change maps
must be equal. ``read/size`` near 1 (below it: the overviews are not
read) means each block is fetched once; ``requests`` is the number of
range requests.

    python tools/analysis/benchmark_remote.py [--sizes 1024 2048] \
        [--work-dir DIR]
"""
import argparse
import os.path as osp
import tempfile
import time

import numpy as np
import rasterio
import rasterio.shutil

from seg_plugins.apis import infer_change_scene, init_change_model
from seg_plugins.utils.quiet_upstream import quiet_upstream
from seg_plugins.utils.range_server import serve
from seg_plugins.utils.synthetic_scene import write_scene_pair

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMALL_UNET = f"""_base_ = ['{REPO}/configs/changedet_demo.py']
model = dict(backbone=dict(base_channels=4, num_stages=3),
             decode_head=dict(in_channels=4))
"""


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 2048])
    parser.add_argument('--work-dir', default=None,
                        help='where the pairs are written (default: a '
                        'temporary folder)')
    return parser.parse_args()


def as_cog(path: str) -> str:
    """``path`` rewritten as a COG beside it; returns its path."""
    cog = osp.splitext(path)[0] + '_cog.tif'
    rasterio.shutil.copy(path, cog, driver='COG', compress='deflate',
                         blocksize=512)
    return cog


def main():
    quiet_upstream()
    args = parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix='benchmark_remote_')
    config = osp.join(work, 'small_unet.py')
    with open(config, 'w') as f:
        f.write(SMALL_UNET)
    model = init_change_model(config)
    print(f'{"size":>6} {"MB a+b":>8} {"read/size":>10} {"requests":>9} '
          f'{"local s":>8} {"http s":>7} {"http/local":>10}')
    for size in args.sizes:
        folder = osp.join(work, str(size))
        pair = write_scene_pair(folder, size, seed=size)
        a, b = (as_cog(pair[k]) for k in ('a', 'b'))
        t = time.perf_counter()
        infer_change_scene(model, a, b, osp.join(folder, 'local.tif'),
                           overwrite=True)
        local = time.perf_counter() - t
        with serve(folder) as server:
            t = time.perf_counter()
            infer_change_scene(
                model, f'{server.url}/{osp.basename(a)}',
                f'{server.url}/{osp.basename(b)}',
                osp.join(folder, 'http.tif'), overwrite=True)
            remote = time.perf_counter() - t
            sent, requests = sum(server.sent.values()), server.requests
        with rasterio.open(osp.join(folder, 'local.tif')) as x, \
                rasterio.open(osp.join(folder, 'http.tif')) as y:
            assert np.array_equal(x.read(1), y.read(1)), 'maps differ'
        total = osp.getsize(a) + osp.getsize(b)
        print(f'{size:>6} {total / 1e6:>8.1f} {sent / total:>10.2f} '
              f'{requests:>9} {local:>8.1f} {remote:>7.1f} '
              f'{remote / local:>10.2f}')


if __name__ == '__main__':
    main()
