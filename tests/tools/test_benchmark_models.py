"""tools/analysis/benchmark_models.py on tiny synthetic sets, and
tools/test.py --protocol on the checkpoint it trained."""
import json
import re

import pytest

from seg_plugins.benchmarks.model_zoo import SCHEDULE
from seg_plugins.benchmarks.model_zoo_training import plan_run
from seg_plugins.utils.synthetic import make_change_dataset
from tests.conftest import REPO, run_tool

TINY = {'train': 4, 'val': 1, 'test': 2}


@pytest.fixture(scope='module')
def bench(tmp_path_factory):
    base = tmp_path_factory.mktemp('bench')
    make_change_dataset(str(base / 'data/synthetic_cd'), TINY, 64, 0)
    make_change_dataset(str(base / 'data/synthetic_cd_hard'), TINY, 64, 0,
                        'hard')
    args = ['tools/analysis/benchmark_models.py', '--out',
            base / 'zoo.md', '--configs', 'configs/changedet_unet.py',
            '--iters', '2', '--repeat', '1', '--memory-size', '128',
            '--data-dir', base / 'data', '--work-dir', base / 'work']
    return base, run_tool(*args)


def test_table_and_json_hold_every_measure(bench):
    base, _ = bench
    table = (base / 'zoo.md').read_text()
    assert '2 iterations, batch 4' in table
    assert '**whole image**' in table
    row = next(line for line in table.splitlines()
               if line.startswith('| FC-EF'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert 'n/a' not in cells and 'export failed' not in cells, row
    data = json.loads((base / 'zoo.json').read_text())
    fc_ef = data['rows'][0]
    assert fc_ef['speed']['params'] > 1e5 and fc_ef['speed']['macs'] > 1e8
    assert fc_ef['speed']['ort_max_abs_diff'] < 1e-3
    assert fc_ef['memory']['peak_rss_mb'] > 0
    for name in ('demo', 'hard'):
        scores = fc_ef['sets'][name]
        assert 0.0 <= scores['F1'] <= 100.0 and scores['protocol'] == 'whole'


def test_training_results_are_kept_until_the_model_changes(bench):
    base, out = bench
    assert 'FC-EF: train on hard' in out
    schedule = dict(SCHEDULE, iters=2, warmup=1)
    args = ('configs/changedet_unet.py', 'hard', str(base / 'data'),
            str(base / 'work'))
    kept = plan_run(*args, retrain=False, schedule=schedule)
    assert kept['result']['reused'] is True
    assert 'result' not in plan_run(*args, retrain=True, schedule=schedule)
    # Another schedule is another derived config: trained again.
    schedule.update(iters=3)
    assert 'result' not in plan_run(*args, retrain=False, schedule=schedule)


def test_test_tool_protocols_on_the_benchmark_checkpoint(bench):
    base, _ = bench
    run = base / 'work/FC-EF__hard'
    kept = json.loads((run / 'result.json').read_text())
    whole = run_tool('tools/test.py', run / 'config.py', run / 'iter_2.pth',
                     '--protocol', 'whole', '--work-dir', base / 'whole')
    line = re.search(r'^metrics: (.*)$', whole, re.M).group(1)
    assert line.startswith('protocol=whole, ')
    # The same weights score the same through tools/test.py.
    assert float(re.search(r'\bF1=([0-9.]+)', line).group(1)) == \
        pytest.approx(kept['F1'], abs=0.01)
    slide = run_tool('tools/test.py', run / 'config.py', run / 'iter_2.pth',
                     '--protocol', 'slide32', '--work-dir', base / 'slide')
    line = re.search(r'^metrics: (.*)$', slide, re.M).group(1)
    assert line.startswith('protocol=slide32, ') and ' F1=' in line


def test_test_tool_refuses_an_unknown_protocol():
    from mmengine.config import Config

    from seg_plugins.apis.testing import describe_protocol, set_protocol
    cfg = Config.fromfile(REPO / 'configs/changedet_unet.py')
    # tools/test.py prints the ValueError as its one error line.
    with pytest.raises(ValueError, match="--protocol tiles: expected "
                       "'whole' or 'slideN'"):
        set_protocol(cfg, 'tiles', 'mmseg')
    set_protocol(cfg, 'slide256', 'mmseg')
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(256, 256),
                                      stride=(256, 256))
    assert describe_protocol(cfg.model.test_cfg) == 'slide256'
