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
import glob
import hashlib
import inspect
import json
import os
import os.path as osp
import platform
import re
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINES = ('configs/changedet_unet.py', 'configs/changedet_fc_siam_conc.py',
             'configs/changedet_fc_siam_diff.py')
NEW_MODELS = ('snunet', 'tinycdv2', 'bit', 'changerex', 'lightcdnet',
              'hanet')
# The synthetic sets: folder under --data-dir, converter preset, side of
# a pair, training crop.
SETS = {
    'demo': ('synthetic_cd', 'demo', 64, 64),
    'hard': ('synthetic_cd_hard', 'hard', 256, 64),
}
PIPELINE = 'configs/_base_/datasets/levir_cd_opencd.py'
# The same CPU schedule for every model (open-cd's recipe shortened):
# AdamW, linear warm-up then linear decay to 0, batch and iterations sized
# so that ~14 models train on both sets in about an hour on 2 cores shared
# with other jobs.
SCHEDULE = dict(iters=120, batch_size=4, lr=3e-3, weight_decay=0.05,
                warmup=12, seed=0)


def default_configs():
    found = []
    for name in NEW_MODELS:
        found += sorted(glob.glob(osp.join(REPO, f'configs/changedet_'
                                           f'{name}*.py')))
    return list(BASELINES) + [osp.relpath(f, REPO) for f in found]


def model_name(config: str) -> str:
    name = osp.splitext(osp.basename(config))[0]
    return {'changedet_unet': 'FC-EF',
            'changedet_fc_siam_conc': 'FC-Siam-conc',
            'changedet_fc_siam_diff': 'FC-Siam-diff'}.get(
                name, name.replace('changedet_', ''))


# How the papers and open-cd name the models of the default configs.
DISPLAY = {
    'changedet_unet': 'FC-EF', 'changedet_fc_siam_conc': 'FC-Siam-conc',
    'changedet_fc_siam_diff': 'FC-Siam-diff',
    'changedet_snunet_c16': 'SNUNet-CD c16',
    'changedet_snunet_c32': 'SNUNet-CD c32',
    'changedet_tinycdv2_s': 'TinyCDv2-S', 'changedet_tinycdv2_b': 'TinyCDv2-B',
    'changedet_tinycdv2_l': 'TinyCDv2-L',
    'changedet_lightcdnet_s': 'LightCDNet-S',
    'changedet_lightcdnet_b': 'LightCDNet-B',
    'changedet_lightcdnet_l': 'LightCDNet-L', 'changedet_hanet': 'HANet',
    'changedet_changerex_r18': 'ChangerEx-r18', 'changedet_bit_r18': 'BIT-r18',
}


def display_name(config: str) -> str:
    name = osp.splitext(osp.basename(config))[0]
    return DISPLAY.get(name, model_name(config))


# ----------------------------------------------------------------- speed
def measure_memory(config: str, size: int) -> dict:
    """Peak RSS added by building the model and inferring one ``size`` x
    ``size`` pair whole (run first in a freshly forked child, whose peak
    starts at its RSS)."""
    import torch

    from seg_plugins.deploy import ProbabilityGraph, load_model
    from seg_plugins.utils.complexity import input_channels
    from seg_plugins.utils.rss import peak_rss_mb, rss_mb
    start = rss_mb()
    _, model, _ = load_model(config)
    graph = ProbabilityGraph(model).eval()
    x = torch.zeros(1, input_channels(model), size, size)
    with torch.no_grad():
        graph(x)
    return dict(peak_rss_mb=peak_rss_mb() - start)


def measure_speed(config: str, repeat: int, threads: int) -> dict:
    """Params, MACs, eager and ONNX Runtime latency of one 256x256 pair."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from seg_plugins.deploy import ProbabilityGraph, export_model, load_model
    from seg_plugins.utils.complexity import complexity, input_channels
    from seg_plugins.utils.timing import best_time
    cfg, model, _ = load_model(config)
    params, macs = complexity(model, (256, 256))
    graph = ProbabilityGraph(model).eval()
    x = torch.randn(1, input_channels(model), 256, 256,
                    generator=torch.Generator().manual_seed(0))

    def eager():
        with torch.no_grad():
            return graph(x)

    out = dict(params=params, macs=macs,
               eager_ms=best_time(eager, repeat) * 1e3)
    ref = eager().numpy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = osp.join(tmp, 'model.onnx')
        try:
            export_model(cfg, model, onnx_file, (256, 256))
        except Exception as e:  # noqa: BLE001  (reported in the table)
            return dict(out, ort_error=one_line(e))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(onnx_file, options,
                                       providers=['CPUExecutionProvider'])
        feed = {session.get_inputs()[0].name: x.numpy()}
        out['ort_ms'] = best_time(lambda: session.run(None, feed),
                                  repeat) * 1e3
        out['ort_max_abs_diff'] = float(
            np.abs(session.run(None, feed)[0] - ref).max())
    return out


def one_line(e: BaseException) -> str:
    return f'{type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}'


# -------------------------------------------------------------- training
def train_pipeline(crop: int) -> list:
    """open-cd's standard LEVIR-CD augmentation (rotation, crop with
    ``cat_max_ratio``, flips, photometric distortion per date) at ``crop``:
    every model sees the same."""
    from mmengine.config import Config
    pipeline = Config.fromfile(osp.join(REPO, PIPELINE)).train_pipeline
    for step in pipeline:
        if step['type'] == 'RandomCrop':
            step['crop_size'] = (crop, crop)
    return [step.to_dict() for step in pipeline]


def derived_config(config: str, root: str, crop: int) -> str:
    """Text of a config over ``config`` that trains it with SCHEDULE on the
    synthetic set at ``root`` (training crop ``crop``)."""
    from mmengine.config import Config
    s = SCHEDULE
    cfg = Config.fromfile(osp.join(REPO, config))
    lines = [
        f'# {config} with the schedule of '
        'tools/analysis/benchmark_models.py',
        f"_base_ = ['{osp.join(REPO, config)}']",
        f"data_root = '{root}'", f'crop_size = ({crop}, {crop})',
        f'train_pipeline = {train_pipeline(crop)!r}',
        'train_dataloader = dict(',
        f"    batch_size={s['batch_size']}, num_workers=1,",
        '    persistent_workers=False,',
        '    dataset=dict(data_root=data_root, pipeline=train_pipeline))',
    ]
    lines.append('test_dataloader = dict(batch_size=1, num_workers=0, '
                 'persistent_workers=False, '
                 'dataset=dict(data_root=data_root))')
    # No validation: the last weights are tested, whatever a validation
    # would have picked.
    lines.append('val_dataloader = val_cfg = val_evaluator = None')
    # Tested whole; a preprocessor with a fixed size pads to the crop.
    pre = cfg.model.get('data_preprocessor', {}) or {}
    lines.append("model = dict(test_cfg=dict(mode='whole')" + (
        ', data_preprocessor=dict(size=crop_size))'
        if pre.get('size') is not None else ')'))
    lines += [
        "optim_wrapper = dict(_delete_=True, type='OptimWrapper', "
        f"optimizer=dict(type='AdamW', lr={s['lr']}, betas=(0.9, 0.999), "
        f"weight_decay={s['weight_decay']}))",
        'param_scheduler = [',
        "    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, "
        f"begin=0, end={s['warmup']}),",
        "    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, "
        f"begin={s['warmup']}, end={s['iters']})]",
        "train_cfg = dict(type='IterBasedTrainLoop', "
        f"max_iters={s['iters']}, val_interval={s['iters']})",
        'default_hooks = dict(',
        '    logger=dict(interval=10),',
        f"    checkpoint=dict(interval={s['iters']}, max_keep_ckpts=1, "
        'save_best=None))',
        f"randomness = dict(seed={s['seed']})",
    ]
    return '\n'.join(lines) + '\n'


def model_sources(config_file: str) -> str:
    """Digest of the derived config and of the source of every registered
    module its model names, so a changed model is retrained."""
    from mmengine.config import Config
    from mmseg.registry import MODELS

    import seg_plugins  # noqa: F401  (registers components)
    cfg = Config.fromfile(config_file)
    digest = hashlib.sha256(cfg.pretty_text.encode())
    types = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get('type'), str):
                types.add(node['type'])
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(cfg.model)
    for name in sorted(types):
        cls = MODELS.get(name)
        try:
            digest.update(inspect.getsource(inspect.getmodule(cls)).encode())
        except (OSError, TypeError):  # not found, or built in
            continue
    return digest.hexdigest()[:16]


def plan_run(config: str, set_name: str, data_dir: str,
             work_dir: str, retrain: bool) -> dict:
    """Write the derived config of ``config`` on ``set_name`` (and the set,
    if missing); return the run's plan, with the kept result if it still
    holds."""
    folder, preset, size, crop = SETS[set_name]
    root = osp.join(data_dir, folder)
    if not osp.isdir(osp.join(root, 'test')):
        from seg_plugins.utils.synthetic import make_change_dataset
        make_change_dataset(root, size=size, preset=preset)
    run_dir = osp.join(work_dir, f'{model_name(config)}__{set_name}')
    os.makedirs(run_dir, exist_ok=True)
    derived = osp.join(run_dir, 'config.py')
    with open(derived, 'w') as f:
        f.write(derived_config(config, root, crop))
    plan = dict(set=set_name, run_dir=run_dir, config=derived,
                key=model_sources(derived))
    result_file = osp.join(run_dir, 'result.json')
    if not retrain and osp.isfile(result_file):
        with open(result_file) as f:
            kept = json.load(f)
        if kept.get('key') == plan['key']:
            plan['result'] = dict(kept, reused=True)
    return plan


def train_and_test(plan: dict) -> dict:
    """Train the derived config as tools/train.py does, then test the last
    weights on the test split (whole images)."""
    from seg_plugins.utils.runner_setup import (
        build_runner,
        load_config,
        make_crash_safe,
        setup_device,
    )
    cfg = load_config(plan['config'], work_dir=plan['run_dir'])
    make_crash_safe(cfg)
    setup_device(cfg)
    runner = build_runner(cfg)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    metrics = runner.test()
    result = dict(key=plan['key'], F1=float(metrics['F1']),
                  IoU=float(metrics['IoU']), protocol='whole',
                  best_F1=float(metrics.get('best_F1', 'nan')),
                  best_threshold=float(metrics.get('best_threshold', 'nan')),
                  train_s=train_s, config=osp.relpath(plan['config'], REPO))
    with open(osp.join(plan['run_dir'], 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def measure_model(config: str, plans: list, args) -> dict:
    """Everything of one model, in a forked child: memory first (the
    child's peak RSS starts with it), then speed, then the training runs
    without a kept result."""
    import torch
    torch.set_num_threads(args.threads)
    row = dict(sets={})
    for part, fn in (('memory', lambda: measure_memory(config,
                                                        args.memory_size)),
                     ('speed', lambda: measure_speed(config, args.repeat,
                                                     args.threads))):
        try:
            row[part] = fn()
        except Exception as e:  # noqa: BLE001  (reported in the table)
            row[part] = dict(error=one_line(e))
    # Training on one thread: on a machine shared with other jobs, a second
    # OpenMP thread mostly spins at barriers waiting for the first.
    torch.set_num_threads(args.train_threads)
    for plan in plans:
        if 'result' in plan:
            row['sets'][plan['set']] = plan['result']
            continue
        print(f'[{time.strftime("%H:%M:%S")}] {model_name(config)}: train '
              f'on {plan["set"]}', flush=True)
        try:
            row['sets'][plan['set']] = train_and_test(plan)
        except Exception as e:  # noqa: BLE001  (reported in the table)
            row['sets'][plan['set']] = dict(error=one_line(e))
    return row


def in_child(fn, *args):
    """``fn(*args)`` in a forked process (the imports are shared, the peak
    RSS and the heap are its own)."""
    import multiprocessing as mp
    ctx = mp.get_context('fork')
    recv, send = ctx.Pipe(duplex=False)

    def target():
        send.send(fn(*args))

    proc = ctx.Process(target=target)
    proc.start()
    send.close()
    try:
        result = recv.recv()
    except EOFError:
        result = dict(error=f'child exited {proc.exitcode}')
    proc.join()
    return result


# ----------------------------------------------------------------- table
def cpu_name() -> str:
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
        return re.search(r'Model name:\s*(.*)', out).group(1).strip()
    except (OSError, AttributeError):
        return platform.processor() or 'unknown CPU'


def fmt(value, spec: str, missing: str = 'n/a') -> str:
    return missing if value is None else format(value, spec)


def write_table(run: dict, out: str) -> None:
    """The Markdown table of ``run`` (what the JSON holds) to ``out``."""
    s, rows = run['schedule'], run['rows']
    base = rows[0]
    base_name = display_name(base['config'])
    sets = [n for n in SETS if any(n in r['sets'] for r in rows)]
    lines = [
        f'Measured by `{run["command"]}` (commit {run["commit"]}) on '
        f'{run["cpu"]}, {run["threads"]} thread(s) for inference, '
        f'{run["train_threads"]} for training (the commit dates it).',
        '',
        f'- Schedule, the same for every model: {s["iters"]} iterations, '
        f'batch {s["batch_size"]}, AdamW lr {s["lr"]} (betas 0.9/0.999, '
        f'weight decay {s["weight_decay"]}), linear warm-up over '
        f'{s["warmup"]} iterations then linear decay to 0, seed {s["seed"]}; '
        f'the train pipeline of `{PIPELINE}` (open-cd\'s: rotation, crop '
        'with `cat_max_ratio`, flips, photometric distortion per date) '
        'with random crops of ' +
        ', '.join(f'{SETS[n][3]}² on {n}' for n in sets) +
        '. The last weights are tested; no model is pre-trained.',
        '- Test protocol: **whole image** (' +
        ', '.join(f'{n} {SETS[n][2]}²' for n in sets) +
        ' pairs); F1 and IoU of the change class over the test split, in '
        '%, at the model\'s own decision (probability 0.5 for one-logit '
        'heads, argmax for softmax heads); best F1: the best over '
        'thresholds 0.1-0.7 chosen on the test split itself (an upper '
        'bound, not a score).',
        f'- Latency: one 256² pair, batch 1, fastest of {run["repeat"]}, '
        'from the normalised input to the probabilities; × is against '
        f'{base_name} in this run. Memory: peak RSS added by building the '
        f'model and inferring one {run["memory_size"]}² pair whole.',
        '',
        '| model | params (M) | MACs (G) 256² | eager ms | × ' +
        base_name + ' | ORT ms | ORT × eager | memory ' +
        f'{run["memory_size"]}² (MiB) | ' +
        ' | '.join(f'{n} F1 | {n} IoU | {n} best F1' for n in sets) +
        ' | ' + ' | '.join(f'{n} F1 − {base_name}' for n in sets) + ' |',
        '|---|' + '---:|' * (7 + 4 * len(sets)),
    ]
    for r in rows:
        speed, mem = r['speed'], r['memory']
        eager, ort = speed.get('eager_ms'), speed.get('ort_ms')
        base_eager = base['speed'].get('eager_ms')
        params, macs = speed.get('params'), speed.get('macs')
        cells = [
            f"{display_name(r['config'])} (`{r['config']}`)",
            fmt(params and params / 1e6, '.2f'),
            fmt(macs and macs / 1e9, '.2f'),
            fmt(eager, '.1f'),
            fmt(eager and base_eager and eager / base_eager, '.2f'),
            fmt(ort, '.1f', 'export failed' if 'ort_error' in speed
                else 'n/a'),
            fmt(eager and ort and eager / ort, '.2f'),
            fmt(mem.get('peak_rss_mb'), '.0f'),
        ]
        for n in sets:
            got = r['sets'].get(n, {})
            cells += [fmt(got.get('F1'), '.2f'), fmt(got.get('IoU'), '.2f'),
                      fmt(got.get('best_F1'), '.2f')]
        for n in sets:
            got, ref = r['sets'].get(n, {}), base['sets'].get(n, {})
            delta = (got['F1'] - ref['F1'] if 'F1' in got and 'F1' in ref
                     else None)
            cells.append('' if r is base else fmt(delta, '+.2f'))
        lines.append('| ' + ' | '.join(cells) + ' |')
    errors = [f'- {display_name(r["config"])} ({part}): '
              f'{v.get("error") or v["ort_error"]}'
              for r in rows for part, v in
              [('memory', r['memory']), ('speed', r['speed'])] +
              list(r['sets'].items())
              if 'error' in v or 'ort_error' in v]
    if errors:
        lines += ['', 'Failures:', ''] + errors
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main():
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
    configs = args.configs or default_configs()
    work_dir = osp.abspath(args.work_dir)
    data_dir = osp.abspath(args.data_dir)
    if args.iters != SCHEDULE['iters']:
        SCHEDULE.update(iters=args.iters,
                        warmup=min(SCHEDULE['warmup'], args.iters // 2))
    import seg_plugins  # noqa: F401  (registers components)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                            cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    run = dict(command=' '.join(['python', 'tools/analysis/'
                                 'benchmark_models.py'] + sys.argv[1:]),
               commit=commit, cpu=cpu_name(), threads=args.threads,
               train_threads=args.train_threads, repeat=args.repeat,
               memory_size=args.memory_size,
               date=time.strftime('%Y-%m-%d', time.gmtime()),
               schedule=SCHEDULE, sets=SETS)
    json_file = osp.splitext(args.out)[0] + '.json'
    rows = []
    for config in configs:
        name = model_name(config)
        print(f'[{time.strftime("%H:%M:%S")}] {name}', flush=True)
        plans = [plan_run(config, s, data_dir, work_dir, args.retrain)
                 for s in args.sets]
        row = in_child(measure_model, config, plans, args)
        if 'error' in row:  # the child died (e.g. out of memory)
            row = dict(speed=row, memory=row, sets={})
        rows.append(dict(row, name=name, config=config))
        print(json.dumps(rows[-1]), flush=True)
        # Written after each model: a stopped run keeps what it measured.
        run['rows'] = rows
        with open(json_file, 'w') as f:
            json.dump(run, f, indent=1)
        write_table(run, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
