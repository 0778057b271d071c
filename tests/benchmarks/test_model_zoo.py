"""seg_plugins.benchmarks.model_zoo*: the derived training config, a run
with a model that fails, and the table written from the run."""
import json
import os
import subprocess
import sys

from mmengine.config import Config

from seg_plugins.benchmarks.model_zoo import SCHEDULE, schedule_for
from seg_plugins.benchmarks.model_zoo_run import in_child
from seg_plugins.benchmarks.model_zoo_table import write_table
from seg_plugins.benchmarks.model_zoo_training import derived_config
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO


def test_derived_config_trains_the_schedule(tmp_path):
    schedule = schedule_for(6)
    assert schedule == dict(SCHEDULE, iters=6, warmup=3)
    assert SCHEDULE['iters'] == 120  # a copy: the default is untouched
    fixed = tmp_path / 'fixed_size.py'
    fixed.write_text(f"_base_ = ['{REPO}/configs/changedet_unet.py']\n"
                     'model = dict(data_preprocessor=dict(size=(32, 32)))\n')
    for config, size in (('configs/changedet_unet.py', None),
                         (str(fixed), (48, 48))):
        out = tmp_path / f'derived_{size is None}.py'
        out.write_text(derived_config(config, '/data/cd', 48, schedule))
        cfg = Config.fromfile(out)  # mmengine reads what tools/train.py reads
        assert cfg.train_cfg.max_iters == 6 and cfg.train_cfg.val_interval == 6
        assert [s.end for s in cfg.param_scheduler] == [3, 6]
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'
        assert cfg.train_dataloader.batch_size == SCHEDULE['batch_size']
        assert cfg.train_dataloader.dataset.data_root == '/data/cd'
        crops = [s.crop_size for s in cfg.train_pipeline
                 if s.type == 'RandomCrop']
        assert crops == [(48, 48)]
        assert cfg.val_dataloader is None
        assert cfg.model.test_cfg.mode == 'whole'
        assert cfg.model.data_preprocessor.get('size') == size


def test_a_child_that_dies_is_reported():
    assert in_child(os._exit, 3) == dict(error='child exited 3')
    assert in_child(divmod, 7, 2) == (3, 1)


def run_zoo_alone(configs, out, iters, **kwargs) -> dict:
    """``run_zoo`` in a process of its own, as the tool runs it: its
    measurements fork, and a fork of a pytest worker whose earlier tests
    started thread pools (OpenVINO's, ONNX Runtime's) can crash."""
    script = (
        'import json, sys\n'
        'from seg_plugins.benchmarks.model_zoo import schedule_for\n'
        'from seg_plugins.benchmarks.model_zoo_run import run_zoo\n'
        'a = json.loads(sys.argv[1])\n'
        "run = run_zoo(a['configs'], a['out'], "
        "schedule=schedule_for(a['iters']), **a['kwargs'])\n"
        "print('RUN=' + json.dumps(run))\n")
    done = subprocess.run(
        [sys.executable, '-c', script, json.dumps(dict(
            configs=configs, out=out, iters=iters, kwargs=kwargs))],
        capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith('RUN=')][-1]
    return json.loads(line[len('RUN='):])


def test_a_failing_model_is_a_row_of_failures(tmp_path):
    make_change_dataset(str(tmp_path / 'data/synthetic_cd'),
                        {'train': 2, 'val': 1, 'test': 1}, 64, 0)
    # A small FC-EF, the baseline, and a model that cannot be built.
    tiny = tmp_path / 'changedet_tiny.py'
    tiny.write_text(f"_base_ = ['{REPO}/configs/changedet_unet.py']\n"
                    'model = dict(backbone=dict(base_channels=4, '
                    'num_stages=3), decode_head=dict(in_channels=4))\n')
    broken = tmp_path / 'changedet_broken.py'
    broken.write_text(f"_base_ = ['{REPO}/configs/changedet_unet.py']\n"
                      "model = dict(backbone=dict(type='NoSuchBackbone'))\n")
    out = str(tmp_path / 'zoo.md')
    run = run_zoo_alone([str(tiny), str(broken)], out, 2,
                        command='python tools/analysis/benchmark_models.py',
                        sets=['demo'], data_dir=str(tmp_path / 'data'),
                        work_dir=str(tmp_path / 'work'), threads=1,
                        train_threads=1, repeat=1, memory_size=64,
                        retrain=False)
    base, bad = run['rows']
    assert json.loads((tmp_path / 'zoo.json').read_text())['rows'] == \
        run['rows']
    table = (tmp_path / 'zoo.md').read_text()
    lines = table.splitlines()
    head = next(i for i, line in enumerate(lines)
                if line.startswith('| model'))
    # One cell per column in the heading, the rule and both rows.
    assert {lines[i].count('|') for i in range(head, head + 4)} == {13}
    cells = [c.strip() for c in lines[head + 2].strip('|').split('|')]
    speed = base['speed']
    assert cells[1] == f"{speed['params'] / 1e6:.2f}" and cells[4] == '1.00'
    assert cells[6] == f"{speed['eager_ms'] / speed['ort_ms']:.2f}"
    assert cells[8] == f"{base['sets']['demo']['F1']:.2f}"
    # The broken model keeps its row, each part of it failed and named.
    cells = [c.strip() for c in lines[head + 3].strip('|').split('|')]
    assert cells[0].startswith('broken (')
    assert cells[1:] == ['n/a'] * 11
    failures = lines[lines.index('Failures:') + 2:]
    assert [f.split(': ')[0] for f in failures] == [
        f'- broken ({part})' for part in ('memory', 'speed', 'demo')]
    assert all('NoSuchBackbone' in f for f in failures), failures
    assert bad['sets']['demo']['error']
    # --from-json writes the same table again.
    write_table(run, str(tmp_path / 'again.md'))
    assert (tmp_path / 'again.md').read_text() == table
