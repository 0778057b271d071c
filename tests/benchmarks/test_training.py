"""The training benchmark: its training-only config, the runner against the
bare loop on PNGs (tools/analysis/benchmark_train.py), and fp32 against
--amp on a synthetic change set."""
import re

from seg_plugins.benchmarks.training_runner import train_only_config
from tests.conftest import REPO, run_tool_in_process


def test_train_only_config_keeps_the_training_and_drops_the_rest(tmp_path):
    config = str(REPO / 'configs/unet_strided_demo.py')
    cfg = train_only_config(config, 'shapes', 3, str(tmp_path))
    loader = cfg.train_dataloader
    assert loader.dataset.data_root == 'shapes' and loader.batch_size == 3
    assert loader.num_workers == 0 and not loader.persistent_workers
    assert cfg.val_cfg is None and cfg.test_dataloader is None
    assert cfg.work_dir == str(tmp_path)
    types = [t.type for t in loader.dataset.pipeline]
    assert 'PackSegInputs' in types and len(types) > 3  # the config's own
    bare = train_only_config(config, 'shapes', 3, str(tmp_path),
                             pipeline=[dict(type='LoadImageFromFile')])
    assert [t.type for t in bare.train_dataloader.dataset.pipeline] == [
        'LoadImageFromFile']


def test_tool_times_runner_and_bare_loop(shapes_root, tmp_path):
    out = run_tool_in_process(
        'tools/analysis/benchmark_train.py', 'configs/unet_strided_demo.py',
        '--data-root', shapes_root, '--iters', 2, '--warmup', 1,
        '--batch-size', 2, '--work-dir', tmp_path)
    ms = {name: float(v) for name, v in re.findall(
        r'^(runner|bare): +[\d.]+ it/s  \(([\d.]+) ms/iter\)$', out, re.M)}
    assert set(ms) == {'runner', 'bare'} and min(ms.values()) > 0, out
    ratio = re.search(r'^ratio runner/bare time per iteration: ([\d.]+) '
                      r'\(target <= 1.10\)$', out, re.M)
    assert abs(float(ratio.group(1)) - ms['runner'] / ms['bare']) < 0.01


def test_tool_amp_runs_fp32_then_bf16(tmp_path):
    out = run_tool_in_process(
        'tools/analysis/benchmark_train.py', 'configs/changedet_demo.py',
        '--amp', '--size', 32, '--batch-size', 2, '--iters', 1, '--warmup', 1,
        '--work-dir', tmp_path)
    # The runners' config dumps: fp32, fp32 channels-last, then the bf16
    # wrapper, which on the CPU trains channels-last too.
    wrappers = re.findall(r"type='(\w*OptimWrapper)'", out)
    assert wrappers == ['OptimWrapper', 'OptimWrapper', 'BF16OptimWrapper']
    assert len(re.findall(r"type='ChannelsLastHook'", out)) == 2
    ms = dict(re.findall(r'^(fp32|fp32_channels_last|bf16): ([\d.]+) '
                         r'ms/iter$', out, re.M))
    assert list(ms) == ['fp32', 'fp32_channels_last', 'bf16'], out[-2000:]
    speedup = re.search(r'^--amp speed-up per iteration at 2x32\^2: '
                        r'([\d.]+)x \(targets.*\); ([\d.]+)x over fp32 in '
                        r'channels-last layout$', out, re.M)
    bf16 = float(ms['bf16'])
    assert abs(float(speedup.group(1)) - float(ms['fp32']) / bf16) < 0.01
    assert abs(float(speedup.group(2)) -
               float(ms['fp32_channels_last']) / bf16) < 0.01
