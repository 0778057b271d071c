r"""Does a change model trained on one scene pair hold on a new acquisition?

Synthetic 4-band uint16 scene pairs (``seg_plugins/utils/synthetic_scene.py``,
40 DN per level) whose date B is date A under a per-band gain and offset:
the training pair and the same-draw test pair share one draw; each
held-out test pair (same content as the same-draw one) draws its own, gain
1 +- 20 % and offset +- 10 % of the band's mean, per band. The training
pair goes through ``scenes2chips.py`` (its ``band_stats.json``: pooled
mean/std for the preprocessor, per-scene statistics for
``RadiometricNormalize``), a model is trained from
``configs/changedet_unet_4band_uint16.py`` by mmengine's runner under each
recipe, and every test scene goes through ``infer_change_scene`` (with
``radiometric=`` the recipe's normalisation, statistics per scene):

    recipe            training augmentation   normalisation
    none              -                       -                 (before)
    aug               RandomRadiometric       -                 (default)
    standardize       -                       standardize
    match             -                       match
    aug+standardize   RandomRadiometric       standardize
    aug+match         RandomRadiometric       match

Prints, per recipe, the change F1 (%) on the same-draw pair and on the
held-out pairs (mean and worst) and the gap between them. Target: the
default recipe's held-out mean within 3 points of its same-draw F1.

    python tools/analysis/benchmark_radiometry.py [--iters 300] \
        [--draws 4] [--recipes none aug ...]

The data, the runs and the table: ``seg_plugins.benchmarks.radiometry_*``.
"""
import argparse
import tempfile
from typing import Optional, Sequence

from seg_plugins.benchmarks.radiometry_data import write_data
from seg_plugins.benchmarks.radiometry_eval import run_recipes
from seg_plugins.benchmarks.radiometry_recipes import RECIPES
from seg_plugins.benchmarks.radiometry_table import draw_lines, table_lines
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main(argv: Optional[Sequence[str]] = None):
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--recipes', nargs='+', default=list(RECIPES),
                        choices=list(RECIPES))
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--draws', type=int, default=4,
                        help='held-out acquisitions')
    parser.add_argument('--train-size', type=int, default=640)
    parser.add_argument('--test-size', type=int, default=256)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (1: steady on a shared machine, '
                        'where more threads than free cores spin)')
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        data = write_data(root, args.draws, args.train_size, args.test_size,
                          seed=args.seed)
        print('\n'.join(draw_lines(data['radiometry'])))
        rows = run_recipes(args.recipes, data, root, iters=args.iters,
                           seed=args.seed)
    print('\n'.join(table_lines(rows, args.draws)))


if __name__ == '__main__':
    main()
