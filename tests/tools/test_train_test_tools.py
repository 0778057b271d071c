"""End to end through tools/train.py and tools/test.py on a tiny dataset."""
import re

import torch

from tests.conftest import (
    REPO,
    demo_options,
    run_cmd,
    run_tool,
    run_tool_in_process,
)


def test_train_writes_checkpoints_and_validates(trained_demo):
    assert (trained_demo / 'iter_2.pth').is_file()
    assert (trained_demo / 'iter_4.pth').is_file()
    ckpt = torch.load(trained_demo / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 4
    assert 'optimizer' in ckpt and 'state_dict' in ckpt
    assert list(trained_demo.glob('best_mIoU_iter_*.pth'))


def test_test_tool_prints_metrics_and_saves_outputs(trained_demo, tmp_path):
    out = run_tool('tools/test.py', 'configs/unet_strided_demo.py',
                   trained_demo / 'iter_4.pth', '--work-dir', tmp_path / 'w',
                   '--out', tmp_path / 'preds', '--show-dir',
                   tmp_path / 'show', '--cfg-options',
                   f'test_dataloader.dataset.data_root={trained_demo.parent}'
                   '/shapes')
    match = re.search(r'metrics: .*mIoU=([0-9.]+)', out)
    assert match, out[-2000:]
    assert 0.0 <= float(match.group(1)) <= 100.0
    assert len(list((tmp_path / 'preds').glob('*.png'))) == 4
    assert len(list((tmp_path / 'show').rglob('*.png'))) == 4


def test_test_visualization_interval(trained_demo, tmp_path):
    """The visualization hook draws every ``interval``-th test batch, as
    mmseg's does (``--show-dir`` sets it to 1)."""
    work = tmp_path / 'w'
    run_tool('tools/test.py', 'configs/unet_strided_demo.py',
             trained_demo / 'iter_4.pth', '--work-dir', work,
             '--cfg-options',
             f'test_dataloader.dataset.data_root={trained_demo.parent}'
             '/shapes', 'default_hooks.visualization.draw=True',
             'default_hooks.visualization.interval=2')
    drawn = sorted(p.name for p in work.rglob('vis_image/*.png'))
    # 4 test images, batch 1: batches 2 and 4, named with their index.
    assert len(drawn) == 2 and drawn[0].endswith('_1.png'), drawn


def test_test_tool_tta(trained_demo, tmp_path):
    """--tta wraps the model in mmseg's SegTTAModel with the config's
    tta_pipeline (plain + flipped) and still scores every image."""
    out = run_tool('tools/test.py', 'configs/unet_strided_demo.py',
                   trained_demo / 'iter_4.pth', '--tta', '--work-dir',
                   tmp_path / 'w', '--out', tmp_path / 'preds',
                   '--cfg-options',
                   f'test_dataloader.dataset.data_root={trained_demo.parent}'
                   '/shapes')
    # The logged config has the model wrapped (tta_model alone is logged
    # without --tta too).
    assert re.search(r"^model = dict\(\n(.*\n)*?    module=dict\(", out,
                     re.M), out[-2000:]
    match = re.search(r'metrics: .*mIoU=([0-9.]+)', out)
    assert match, out[-2000:]
    assert len(list((tmp_path / 'preds').glob('*.png'))) == 4


def test_test_tool_option_errors_are_one_line(tmp_path):
    """An option the config cannot take (tools/test.py's set-up, in
    seg_plugins/apis/testing.py): one error line naming it, before any
    data or checkpoint is read."""
    demo, maskrcnn = 'configs/changedet_demo.py', (
        'configs/maskrcnn_r50_fpn_pennfudan.py')
    for config, option, error in (
            (demo, ['--protocol', 'tiles'], "error: --protocol tiles: "
             "expected 'whole' or 'slideN' (e.g. slide256), for mmseg "
             'configs'),
            (demo, ['--backend', 'onnxruntime', '--precision', 'bf16'],
             "error: --precision: precision='bf16': onnxruntime runs the "
             'graph in fp32'),
            (maskrcnn, ['--tta'], 'error: --tta needs tta_pipeline in '),
            (maskrcnn, ['--backend', 'onnxruntime'],
             'error: --backend onnxruntime supports mmseg configs only')):
        out = run_tool_in_process(
            'tools/test.py', config, tmp_path / 'none.pth', '--work-dir',
            tmp_path / 'w', *option, expect_fail=True)
        assert error in out and 'Traceback' not in out, out[-2000:]


def test_resume_restores_iteration_and_optimizer(trained_demo, tmp_path):
    work = tmp_path / 'resumed'
    out = run_tool(
        'tools/train.py', 'configs/unet_strided_demo.py', '--work-dir', work,
        '--resume', trained_demo / 'iter_4.pth', '--cfg-options',
        *demo_options(trained_demo.parent / 'shapes', max_iters=6))
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'Iter(train) [1/6]' not in out
    ckpt = torch.load(work / 'iter_6.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 6
    # Adam's step counters carried over: 4 before resuming + 2 after.
    steps = {float(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert steps == {6.0}


def test_resume_without_checkpoint_starts_from_load_from(trained_demo,
                                                          tmp_path):
    """Staged training (load_from the previous stage) restarted with
    --resume before its first checkpoint keeps the loaded weights."""
    out = run_tool(
        'tools/train.py', 'configs/unet_strided_demo.py', '--work-dir',
        tmp_path / 'w', '--resume', '--cfg-options',
        *demo_options(trained_demo.parent / 'shapes', max_iters=2),
        f'load_from={trained_demo / "iter_4.pth"}')
    assert 'no loadable checkpoint in' in out
    assert 'starting from load_from' in out
    assert f'Load checkpoint from {trained_demo / "iter_4.pth"}' in out
    assert 'Iter(train) [1/2]' in out  # loaded as weights, not resumed


def test_dist_train_two_cpu_processes(shapes_root, tmp_path):
    """torchrun, 2 processes, gloo: both ranks train and stay in sync, and
    --auto-scale-lr scales the lr to the world's batch."""
    hook_dir = tmp_path / 'hookmod'
    hook_dir.mkdir()
    (hook_dir / 'rank_report_hook.py').write_text(RANK_HOOK)
    config = tmp_path / 'dist_demo.py'
    config.write_text(
        f"_base_ = ['{REPO / 'configs/unet_strided_demo.py'}']\n"
        "custom_imports = dict(imports=['seg_plugins', 'rank_report_hook'])\n"
        "custom_hooks = [dict(type='RankReportHook')]\n")
    work = tmp_path / 'dist'
    out = run_cmd([
        'bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
        '--auto-scale-lr', '--cfg-options',
        *demo_options(shapes_root, max_iters=2),
        'auto_scale_lr.base_batch_size=2'],
        env={'PYTHONPATH': str(hook_dir), 'PORT': '29517'})
    assert 'Distributed training: True' in out or 'World size: 2' in out
    reports = sorted(work.glob('rank*.txt'))
    assert [p.name for p in reports] == ['rank0.txt', 'rank1.txt']
    values = [p.read_text().split() for p in reports]
    assert all(v[0] == '2' for v in values)  # world size seen by each rank
    assert values[0][1] == values[1][1]  # DDP kept the weights identical
    # Adam lr 1e-3 set for a batch of 2; 2 processes x 2 images: x2.
    assert 'Scaling the original LR by 2.0' in out
    assert all(float(v[2]) == 2e-3 for v in values)


RANK_HOOK = '''
import os
import torch.distributed as dist
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RankReportHook(Hook):
    def after_train(self, runner):
        model = runner.model.module
        total = sum(float(p.double().sum()) for p in model.parameters())
        with open(os.path.join(runner.work_dir, f'rank{dist.get_rank()}.txt'),
                  'w') as f:
            lr = runner.optim_wrapper.get_lr()['lr'][0]
            f.write(f'{dist.get_world_size()} {total:.10e} {lr!r}')
'''
