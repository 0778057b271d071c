"""Every change model family through the real tools, end to end.

Each config (the real one, cut small by a tiny config inheriting it: fewer
channels, the layer types and the graph its own) trains two iterations with
tools/train.py, is tested with tools/test.py --tta, exported to ONNX by
tools/deploy/export_onnx.py (ONNX Runtime within 1e-4 of PyTorch), and
infers a GeoTIFF pair with the PyTorch and ONNX Runtime backends (the same
map on A's grid). One tiny LEVIR-layout dataset and one GeoTIFF pair serve all.
The tools run in this process (a tool's start costs seconds of imports);
the one check of memory runs tools/infer.py in a process of its own.

The full-size configs and their size variants (SNUNet-CD c32, TinyCDv2-B/L,
LightCDNet-B/L) are built and counted against open-cd in tests/models.
"""
import json
import re
import sys
from typing import NamedTuple, Tuple

import numpy as np
import pytest
import rasterio

from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, demo_options, run_cmd, run_tool_in_process
from tests.geo.scene_fixture import scene_bands, write_tif
from tests.models.resnet_cd_helpers import assert_scene_inference


class Family(NamedTuple):
    config: str  # under configs/
    tiny: str  # the lines after _base_ that cut it small
    losses: Tuple[str, ...]  # logged by training
    protocol: str = 'whole'  # tools/test.py --protocol


# Two iterations of warm-up leave the weights at their init; a one-logit
# head's zero bias would put every pixel without active features exactly
# at the 0.5 threshold, where a rounding flips it between runtimes.
UNET = ('model = dict(backbone=dict(base_channels=4, num_stages=3),\n'
        '             decode_head=dict(in_channels=4, init_cfg=dict(\n'
        "                 type='Normal', std=0.01, bias=0.1,\n"
        "                 override=dict(name='conv_seg'))))\n")
RESNET18 = ('model = dict(backbone=dict(stem_channels=16, base_channels=16),'
            '\n             decode_head=dict(in_channels={}))\n')
BINARY_LOSSES = ('loss_bce', 'loss_dice')

FAMILIES = {
    'fc_ef': Family('changedet_unet.py', UNET, BINARY_LOSSES,
                    protocol='slide16'),
    'fc_siam_conc': Family('changedet_fc_siam_conc.py', UNET, BINARY_LOSSES),
    'fc_siam_diff': Family('changedet_fc_siam_diff.py', UNET, BINARY_LOSSES),
    'snunet_c16': Family(
        'changedet_snunet_c16.py',
        'model = dict(backbone=dict(base_channels=4),\n'
        '             decode_head=dict(in_channels=16, channels=16))\n',
        ('loss_ce',)),
    'tinycdv2_s': Family('changedet_tinycdv2_s.py', '', ('loss_ce',)),
    'lightcdnet_s': Family('changedet_lightcdnet_s.py', '',
                           ('loss_ce', 'aux.loss_ce')),
    # Its config's protocol: 256^2 slide windows (one over a 32^2 pair).
    'hanet': Family(
        'changedet_hanet.py',
        'model = dict(backbone=dict(base_channels=8, cam_channels=8),\n'
        '             decode_head=dict(in_channels=16, channels=16))\n',
        ('loss_ce',), protocol=''),
    'changerex_r18': Family('changedet_changerex_r18.py',
                            RESNET18.format([16, 32, 64, 128]),
                            ('loss_ce',)),
    'bit_r18': Family('changedet_bit_r18.py', RESNET18.format(64),
                      ('loss_ce',)),
}
# Change configs that are not a model family of their own: size variants
# (counted in tests/models) and variants of the U-Net's data or head
# (tests/tools/test_changedet_e2e.py, tests/datasets/test_radiometric.py).
VARIANTS = {'changedet_snunet_c32.py', 'changedet_tinycdv2_b.py',
            'changedet_tinycdv2_l.py', 'changedet_lightcdnet_b.py',
            'changedet_lightcdnet_l.py', 'changedet_demo.py',
            'changedet_unet_softmax.py', 'changedet_unet_4band_uint16.py'}
TEST_PAIRS, SIZE = 2, 32


@pytest.fixture(scope='module')
def zoo(tmp_path_factory):
    """The tiny dataset, the GeoTIFF pair, and each family trained by
    tools/train.py once (on first use)."""
    base = tmp_path_factory.mktemp('zoo')
    root = make_change_dataset(str(base / 'data'),
                               {'train': 4, 'val': 2, 'test': TEST_PAIRS},
                               size=SIZE, seed=7)
    pair = (write_tif(base / 'a.tif', scene_bands(96, 80, 1)),
            write_tif(base / 'b.tif', scene_bands(96, 80, 2)))
    # Data in the main process: a worker's start costs more than 4 pairs.
    in_process = [f'{split}_dataloader.{key}'
                  for split in ('train', 'val', 'test')
                  for key in ('num_workers=0', 'persistent_workers=False')]
    options = ['--cfg-options', *demo_options(root, max_iters=2),
               'randomness.seed=0', *in_process]
    trained = {}

    def train(name):
        if name not in trained:
            family, work = FAMILIES[name], base / name
            work.mkdir()
            config = work / f'tiny_{family.config}'
            config.write_text(f"_base_ = ['{REPO / 'configs' / family.config}"
                              f"']\n{family.tiny}")
            log = run_tool_in_process('tools/train.py', config, '--work-dir',
                                      work, *options)
            trained[name] = config, work / 'iter_2.pth', log
        return trained[name]

    return train, options, pair


def run_test_tool(config, weights, options, work, *args):
    """tools/test.py --tta: the protocol its metrics line names, after
    checking its F1 and that its pixel counts cover the test pairs."""
    out = run_tool_in_process('tools/test.py', config, weights, '--tta',
                              '--work-dir', work, *args, *options)
    metrics = re.search(r'metrics: protocol=([^,]+),.* F1=([\d.]+),', out)
    counts = re.search(r'tp=(\d+) fp=(\d+) fn=(\d+) tn=(\d+)', out)
    assert metrics and counts, out[-3000:]
    assert sum(map(int, counts.groups())) == TEST_PAIRS * SIZE * SIZE, out
    assert 0 <= float(metrics.group(2)) <= 100, metrics.group(0)
    return metrics.group(1)


@pytest.mark.parametrize('name', list(FAMILIES))
def test_train_test_export_and_scene_inference(zoo, name):
    train, options, pair = zoo
    family = FAMILIES[name]
    config, ckpt, log = train(name)
    work = ckpt.parent
    for key in (*family.losses, 'F1'):
        assert re.search(rf'\b{re.escape(key)}: ', log), (key, log[-3000:])
    assert ckpt.is_file()

    protocol = ['--protocol', family.protocol] if family.protocol else []
    used = run_test_tool(config, ckpt, options, work / 'test', *protocol)
    assert used == (family.protocol or 'slide256x256/stride192x192')

    onnx_file = work / 'model.onnx'
    out = run_tool_in_process('tools/deploy/export_onnx.py', config, ckpt,
                              onnx_file, '--shape', 64, 64, '--dynamic')
    check = json.loads(re.search(r'check: (.*)', out).group(1))
    assert check['ok'] and len(check['checks']) == 2, check
    assert max(c['max_abs_diff'] for c in check['checks']) <= 1e-4, check

    # Barely trained weights: a few pixels near the threshold may flip.
    assert_scene_inference(str(config), ckpt, onnx_file, work, pair)


def test_every_change_config_is_a_family_or_a_variant():
    configs = {p.name for p in (REPO / 'configs').glob('changedet_*.py')}
    families = {f.config for f in FAMILIES.values()}
    assert configs == families | VARIANTS, configs ^ (families | VARIANTS)


# tools/infer.py, reporting how far its anonymous memory (the tensors and
# arrays) rose above what it held when a scene run started (model built,
# rasters not yet read). Sampled, because the resident size also counts
# library pages the kernel may drop and fault back in on a busy machine.
WATCH_SCENE_MEMORY = """
import runpy, sys, threading
from seg_plugins.apis import scene_inference
run = scene_inference.infer_change_scene

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

# Where it is defined (read by the modules the tool imports later) and in
# every module that has imported it already.
for module in list(sys.modules.values()):
    if getattr(module, '__dict__', {}).get('infer_change_scene') is run:
        module.infer_change_scene = watched
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def test_hanet_scene_memory_follows_the_tile(zoo, tmp_path):
    """HANet's full-resolution row/column attention, through tools/infer.py
    in a process of its own (its memory is what is measured)."""
    config, ckpt, _ = zoo[0]('hanet')
    # A small scene first (the run's one-off allocations: one full batch of
    # 4 tiles), then a large one in the same process: only what grows with
    # the scene shows in the second one's rise.
    pairs, size = tmp_path / 'pairs.txt', 512
    lines = []
    for name, side in (('small', 128), ('large', size)):
        a = write_tif(tmp_path / f'{name}_a.tif', scene_bands(side, side, 3))
        b = write_tif(tmp_path / f'{name}_b.tif', scene_bands(side, side, 4))
        lines.append(f'{a} {b} {tmp_path / name}.tif')
    pairs.write_text('\n'.join(lines) + '\n')
    log = run_cmd([sys.executable, '-c', WATCH_SCENE_MEMORY,
                   'tools/infer.py', '--pairs', pairs, '--config', config,
                   '--checkpoint', ckpt, '--tile', '64', '--overlap', '0'])
    with rasterio.open(tmp_path / 'large.tif') as src:
        assert src.shape == (size, size)
        assert set(np.unique(src.read(1))) <= {0, 1}
    rises = [int(r) for r in re.findall(r'scene run rose (-?\d+) MiB', log)]
    assert len(rises) == 2, log[-2000:]
    # One full-resolution row attention over the whole scene would hold
    # size x size x size float32 values (512 MiB); tiled, the run holds
    # 64 x 64 x 64 per tile.
    whole_scene = size**3 * 4 / 2**20
    assert rises[1] < whole_scene / 4, log[-2000:]


def test_tools_in_process_leave_this_process_as_it_was(zoo, tmp_path):
    """Back-to-back in-process runs (mmengine names a run's logger after
    its config and second) log each to its own file, and what the tools
    change in the process is put back."""
    import signal
    import warnings

    import torch
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import DefaultScope
    train, options, _ = zoo
    config, ckpt, _ = train('fc_ef')

    def state():
        return ([dict(c._instance_dict) for c in (MMLogger, MessageHub,
                                                   DefaultScope)],
                list(warnings.filters), signal.getsignal(signal.SIGTERM),
                signal.getsignal(signal.SIGINT), torch.get_rng_state())

    before = state()
    for run in ('first', 'second'):
        run_test_tool(config, ckpt, options, tmp_path / run)
    after = state()
    assert after[:-1] == before[:-1]
    assert torch.equal(after[-1], before[-1])
    for run in ('first', 'second'):
        logs = list((tmp_path / run).glob('*/*.log'))
        assert len(logs) == 1, logs
        assert 'Load checkpoint' in logs[0].read_text()
