r"""The change models side by side: size, speed, memory and F1 after the same
short CPU schedule, in one run.

    python tools/analysis/benchmark_models.py --out model_zoo.md \
        [--configs configs/changedet_unet.py ...] [--sets demo hard] \
        [--work-dir work_dirs/benchmark_models] [--data-dir data]

Per config (default: FC-EF ``configs/changedet_unet.py``, FC-Siam-conc,
FC-Siam-diff and every ``configs/changedet_<model>*.py`` of the models of
today that exists), in a process forked from this one (the imports are
shared; the heap and the peak RSS are its own):

- peak RSS added by building the model and inferring one 1024x1024 pair
  whole (measured first, so the child's peak is this);
- parameters and MACs of one 256x256 pair
  (:func:`seg_plugins.utils.complexity.complexity`);
- latency of one 256x256 pair, batch 1, random weights, from the
  normalised input to the probabilities: eager PyTorch (``no_grad``) and
  the graph exported by :mod:`seg_plugins.deploy` run by ONNX Runtime's CPU
  provider, fastest of ``--repeat``, on ``--threads``; ratios against FC-EF
  in the same run;
- change F1 and IoU on the test split of each synthetic set
  (``tools/dataset_converters/make_synthetic_cd.py --preset demo|hard``,
  written if missing) after :data:`SCHEDULE`, the same for every model:
  mmengine's runner as ``tools/train.py`` builds it, on a config derived
  from the model's (written to ``<work-dir>/<model>__<set>/config.py``, so
  ``tools/train.py`` / ``tools/test.py --protocol whole`` rerun it), then
  its test loop on the last weights, whole images.

Training results are kept in the work dir, keyed by the derived config and
the source of every module its model is built from, and reused while
neither changes (``--retrain`` to ignore them); size, speed and memory are
measured again on every run so that their ratios share one run.
"""
import argparse
import json
import os
import os.path as osp
import sys

from seg_plugins.benchmarks.model_zoo import (
    SCHEDULE,
    SETS,
    default_configs,
    schedule_for,
)
from seg_plugins.benchmarks.model_zoo_run import run_zoo
from seg_plugins.benchmarks.model_zoo_table import write_table
from seg_plugins.utils.quiet_upstream import quiet_upstream


def main():
    quiet_upstream()
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True,
                        help='Markdown table; the JSON goes beside it')
    parser.add_argument('--configs', nargs='+', default=None)
    parser.add_argument('--sets', nargs='*', default=list(SETS),
                        choices=list(SETS))
    parser.add_argument('--data-dir', default='data',
                        help='where the synthetic sets are (written if '
                        'missing)')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_models')
    parser.add_argument('--iters', type=int, default=SCHEDULE['iters'],
                        help='training iterations (a quick look; the '
                        'table says how many)')
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--train-threads', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--memory-size', type=int, default=1024,
                        help='side of the pair the peak RSS is taken on')
    parser.add_argument('--retrain', action='store_true',
                        help='train again even where a result is kept')
    parser.add_argument('--from-json', metavar='JSON',
                        help='only write the table of an earlier run')
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            write_table(json.load(f), args.out)
        return
    run_zoo(args.configs or default_configs(), args.out,
            command=' '.join(['python', 'tools/analysis/benchmark_models.py']
                             + sys.argv[1:]),
            sets=args.sets, data_dir=osp.abspath(args.data_dir),
            work_dir=osp.abspath(args.work_dir),
            schedule=schedule_for(args.iters), threads=args.threads,
            train_threads=args.train_threads, repeat=args.repeat,
            memory_size=args.memory_size, retrain=args.retrain)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
