"""A NaN loss at iteration k: stop naming k (or skip the step); no NaN
weights on disk. mmengine 0.10.7 steps the optimizer with the NaN gradients
and writes the NaN weights as the next (and last) checkpoint."""
import re

from tests.engine.chaos import CONFIG, REPO, finite, run, train_cmd


def nan_config(tmp_path, action):
    cfg = tmp_path / f'nan_{action}.py'
    cfg.write_text(
        f"_base_ = ['{REPO / CONFIG}']\n"
        "custom_imports = dict(imports=['seg_plugins', "
        "'tests.engine.nan_loss_hook'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='NaNLossAtIterHook', iteration=3), "
        f"dict(type='FiniteLossHook', action='{action}')]\n")
    return str(cfg)


def test_nan_loss_stops_naming_the_iteration(tmp_path, cd_data):
    work = tmp_path / 'work'
    cmd = train_cmd(work, cd_data, max_iters=6, resume=False)
    cmd[2] = nan_config(tmp_path, 'raise')
    rc, out = run(cmd)
    assert rc != 0
    assert re.search(r'NonFiniteLossError: non-finite loss at iteration 3 '
                     r'\(loss=nan, .*loss_bce=nan', out), out[-3000:]
    ckpts = sorted(work.glob('*.pth'))
    assert [p.name for p in ckpts if p.name.startswith('iter_')] == \
        ['iter_2.pth']
    assert all(finite(p) for p in ckpts)


def test_nan_loss_skip_drops_that_update_only(tmp_path, cd_data):
    work = tmp_path / 'work'
    cmd = train_cmd(work, cd_data, max_iters=4, resume=False,
                    cfg_options=['train_cfg.val_interval=100'])
    cmd[2] = nan_config(tmp_path, 'skip')
    rc, out = run(cmd)
    assert rc == 0, out[-3000:]
    assert 'non-finite loss at iteration 3' in out and 'update skipped' in out
    assert finite(work / 'iter_4.pth')
