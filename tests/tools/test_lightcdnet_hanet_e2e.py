"""LightCDNet and HANet end to end: train a few iterations and test
(LightCDNet through tools/train.py and tools/test.py --tta, HANet in
mmengine's Runner), then infer GeoTIFF scene pairs (LightCDNet with both
backends; HANet through tools/infer.py, its peak memory following the
tile, not the scene).

The configs are the real ones (HANet cut to 8 channels at full resolution)
on the tiny LEVIR-layout dataset and GeoTIFF pairs of the other tests.
"""
import re
import sys

import numpy as np
import pytest
import rasterio
from mmengine.config import Config
from mmengine.runner import Runner

from seg_plugins.deploy import export_config
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, run_cmd, run_tool
from tests.geo.scene_fixture import scene_bands, write_tif
from tests.models.resnet_cd_helpers import assert_scene_inference

TINY = {
    'lightcdnet': "_base_ = ['{}/configs/changedet_lightcdnet_s.py']\n",
    'hanet': ("_base_ = ['{}/configs/changedet_hanet.py']\n"
              'model = dict(\n'
              '    backbone=dict(base_channels=8, cam_channels=8),\n'
              '    decode_head=dict(in_channels=16, channels=16))\n'),
}

# tools/infer.py, reporting how far its anonymous memory (the tensors and
# arrays) rose above what it held when a scene run started (model built,
# rasters not yet read). Sampled, because the resident size also counts
# library pages the kernel may drop and fault back in on a busy machine.
WATCH_SCENE_MEMORY = """
import runpy, sys, threading
import seg_plugins.apis as apis
run = apis.infer_change_scene

def anon_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('RssAnon:'):
                return int(line.split()[1]) / 1024

def watched(*args, **kwargs):
    start, peak, done = anon_mb(), [0.0], threading.Event()

    def sample():
        while not done.wait(0.002):
            peak[0] = max(peak[0], anon_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        return run(*args, **kwargs)
    finally:
        done.set()
        sampler.join()
        rose = max(peak[0], anon_mb()) - start
        print(f'scene run rose {rose:.0f} MiB', flush=True)

apis.infer_change_scene = watched
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def options(root) -> dict:
    """Two training iterations on the tiny dataset, validated at the end."""
    opts = {f'{split}_dataloader.{key}': value
            for split in ('train', 'val', 'test')
            for key, value in (('dataset.data_root', str(root)),
                               ('num_workers', 0),
                               ('persistent_workers', False))}
    opts.update({'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
                 'default_hooks.checkpoint.interval': 2,
                 'default_hooks.logger.interval': 1,
                 'train_dataloader.batch_size': 2})
    return opts


def cli(opts: dict) -> list:
    return ['--cfg-options', *[f'{k}={v}' for k, v in opts.items()]]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp('lightcd_hanet')
    root = make_change_dataset(str(base / 'data'),
                               {'train': 4, 'val': 2, 'test': 2}, size=32,
                               seed=11)
    return base, root


def tiny_config(base, name):
    config = base / f'tiny_{name}.py'
    config.write_text(TINY[name].format(REPO))
    return config


def test_lightcdnet_tools_and_scene_with_both_backends(data):
    base, root = data
    config, work = tiny_config(base, 'lightcdnet'), base / 'lightcdnet'
    out = run_tool('tools/train.py', config, '--work-dir', work,
                   *cli(options(root)))
    assert 'loss_ce' in out and 'aux.loss_ce' in out and 'F1' in out
    ckpt = work / 'iter_2.pth'
    out = run_tool('tools/test.py', config, ckpt, '--tta', '--work-dir',
                   work / 'test', *cli(options(root)))
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    assert counts and sum(map(int, counts.groups())) == 2 * 32 * 32, out
    onnx_file = base / 'lightcdnet.onnx'
    export_config(str(config), str(ckpt), str(onnx_file), shape=(64, 64),
                  dynamic=True)
    assert_scene_inference(str(config), ckpt, onnx_file, base)


def test_hanet_runner_and_scene_memory_bounded_by_the_tile(data):
    """HANet trains and tests in mmengine's Runner in this process (the
    tools' own code runs for LightCDNet above; each tool process costs the
    stack's import again), then infers scenes through tools/infer.py."""
    base, root = data
    config, work = tiny_config(base, 'hanet'), base / 'hanet'
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options(root))
    cfg.work_dir = str(work)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()  # 256^2 slide windows over the 32^2 pairs
    assert 0 <= metrics['F1'] <= 100, metrics
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    # A small scene first (the run's one-off allocations: one full batch of
    # 4 tiles), then a large one in the same process: only what grows with
    # the scene shows in the second one's rise.
    pairs, size = base / 'pairs.txt', 512
    lines = []
    for name, side in (('small', 128), ('large', size)):
        a = write_tif(base / f'{name}_a.tif', scene_bands(side, side, 3))
        b = write_tif(base / f'{name}_b.tif', scene_bands(side, side, 4))
        lines.append(f'{a} {b} {base / name}.tif')
    pairs.write_text('\n'.join(lines) + '\n')
    log = run_cmd([sys.executable, '-c', WATCH_SCENE_MEMORY,
                   'tools/infer.py', '--pairs', pairs, '--config', config,
                   '--checkpoint', ckpt, '--tile', '64', '--overlap', '0'])
    with rasterio.open(base / 'large.tif') as src:
        assert src.shape == (size, size)
        assert set(np.unique(src.read(1))) <= {0, 1}
    rises = [int(r) for r in re.findall(r'scene run rose (-?\d+) MiB', log)]
    assert len(rises) == 2, log[-2000:]
    # One full-resolution row attention over the whole scene would hold
    # size x size x size float32 values (512 MiB); tiled, the run holds
    # 64 x 64 x 64 per tile.
    whole_scene = size**3 * 4 / 2**20
    assert rises[1] < whole_scene / 4, log[-2000:]
