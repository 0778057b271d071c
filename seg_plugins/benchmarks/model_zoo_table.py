"""The change-model benchmark's Markdown table.

Written from the run's JSON (what ``tools/analysis/benchmark_models.py``
writes beside the table): a paragraph of how it was measured, one row per
model with its ratios against the first row's, and the failures.
"""
import platform
import re
import subprocess

from .model_zoo import PIPELINE, SETS, display_name


def cpu_name() -> str:
    """The CPU's model name, from ``lscpu`` where it runs.

    Returns:
        str: e.g. ``Intel(R) Xeon(R) Processor``; ``platform.processor()``
        or ``unknown CPU`` without ``lscpu``.
    """
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
        return re.search(r'Model name:\s*(.*)', out).group(1).strip()
    except (OSError, AttributeError):
        return platform.processor() or 'unknown CPU'


def fmt(value, spec: str, missing: str = 'n/a') -> str:
    """``value`` formatted by ``spec``, or ``missing`` where it is None."""
    return missing if value is None else format(value, spec)


def _header(run: dict, sets: list, base_name: str) -> list:
    """How the run was measured, and the table's heading lines."""
    s = run['schedule']
    return [
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


def _row(r: dict, base: dict, sets: list) -> str:
    """The table line of row ``r``; ratios and deltas against ``base``."""
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
    return '| ' + ' | '.join(cells) + ' |'


def write_table(run: dict, out: str) -> None:
    """Write the Markdown table of a run.

    Args:
        run (dict): what the run's JSON holds: ``command``, ``commit``,
            ``cpu``, ``threads``, ``train_threads``, ``repeat``,
            ``memory_size``, ``schedule`` and ``rows`` (one per model, with
            ``config``, ``speed``, ``memory`` and ``sets``); the first row
            is the baseline of the ratios.
        out (str): the Markdown file to write.
    """
    rows = run['rows']
    base = rows[0]
    base_name = display_name(base['config'])
    sets = [n for n in SETS if any(n in r['sets'] for r in rows)]
    lines = _header(run, sets, base_name)
    lines += [_row(r, base, sets) for r in rows]
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
