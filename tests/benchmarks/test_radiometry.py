"""The radiometry benchmark: each recipe's config, built by mmengine on the
chips it writes, and tools/analysis/benchmark_radiometry.py's table."""
import re

import pytest
import torch

from seg_plugins.benchmarks.radiometry_data import write_data
from seg_plugins.benchmarks.radiometry_recipes import RECIPES, recipe_config
from seg_plugins.benchmarks.radiometry_table import table_lines
from tests.conftest import run_tool_in_process


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return write_data(str(tmp_path_factory.mktemp('radiometry')), draws=2,
                      train_size=128, test_size=64)


# Every augmentation and every normalisation once.
@pytest.mark.parametrize('recipe', ['none', 'aug+standardize', 'match'])
def test_recipe_config_builds_its_pipeline_on_the_chips(data, tmp_path,
                                                        recipe, mmseg_scope):
    from mmseg.registry import DATASETS
    augment, method = RECIPES[recipe]
    cfg, got = recipe_config(recipe, data, str(tmp_path), iters=40)
    assert got == method and cfg.work_dir == str(tmp_path)
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert ('RandomRadiometric' in types) == augment
    assert ('RadiometricNormalize' in types) == (method != 'none')
    if method != 'none':
        norm = types.index('RadiometricNormalize')
        assert norm == types.index('ConcatCDInput') - 1
        assert cfg.train_dataloader.dataset.pipeline[norm].method == method
    assert cfg.val_dataloader is None and cfg.train_cfg.max_iters == 40
    assert cfg.param_scheduler[-1].end == 40
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    inputs = sample['inputs']
    assert inputs.shape == (8, 64, 64)  # both dates' 4 bands
    # Normalised: float32 from RadiometricNormalize; else the chips' DN.
    want = torch.uint16 if method == 'none' else torch.float32
    assert inputs.dtype == want


def test_table_marks_the_default_and_judges_its_gap():
    rows = [('none', dict(same=90.0, held=40.0, worst=30.0, gap=50.0)),
            ('aug', dict(same=88.0, held=86.5, worst=80.0, gap=1.5))]
    lines = table_lines(rows, 4)
    assert 'mean of 4' in lines[1]
    assert lines[3] == '| none | 90.00 | 40.00 | 30.00 | +50.00 |'
    assert lines[4].startswith('| aug (default) | 88.00 |')
    assert lines[-1].endswith('(target <= 3): met')
    rows[1][1]['gap'] = -3.5
    assert table_lines(rows, 4)[-1].endswith('NOT met')


def test_tool_prints_each_draw_the_row_and_the_verdict():
    out = run_tool_in_process(
        'tools/analysis/benchmark_radiometry.py', '--iters', 6, '--draws', 2,
        '--recipes', 'aug', '--train-size', 128, '--test-size', 64)
    draws = re.findall(r'^  (\S+) +gain \[', out, re.M)
    assert draws == ['same-draw', 'held-out1', 'held-out2']
    rows = re.findall(r'^\| (\S+(?: \(default\))?) \| ([\d.]+) \| ([\d.]+) '
                      r'\| ([\d.]+) \| ([+-][\d.]+) \|$', out, re.M)
    assert [r[0] for r in rows] == ['aug (default)'], out[-2000:]
    for _, same, held, worst, gap in rows:
        same, held, worst, gap = map(float, (same, held, worst, gap))
        assert 0 <= worst <= held <= 100 and 0 <= same <= 100
        assert abs(same - held - gap) < 0.011
    assert re.search(r'^default recipe: held-out within [\d.]+ points of '
                     r'same-draw \(target <= 3\): (met|NOT met)$', out, re.M)
