"""The change-model benchmark's run: every model in a forked child.

A child per model shares the parent's imports while its heap and peak RSS
are its own, so the memory measured first in it is the model's. The JSON
and the table are written after each model: a stopped run keeps what it
measured.
"""
import json
import os.path as osp
import subprocess
import time

from .model_zoo import REPO, SETS, model_name
from .model_zoo_measure import measure_memory, measure_speed, one_line
from .model_zoo_table import cpu_name, write_table
from .model_zoo_training import plan_run, train_and_test


def measure_model(config: str, plans: list, threads: int,
                  train_threads: int, repeat: int, memory_size: int) -> dict:
    """Everything of one model; run it in a forked child.

    Memory first (the child's peak RSS starts with it), then speed, then
    the training runs without a kept result. A failing part is reported
    in its place as ``dict(error=...)``.

    Args:
        config (str): the model's config.
        plans (list[dict]): its runs, from
            :func:`.model_zoo_training.plan_run`.
        threads (int): torch and ONNX Runtime threads for inference.
        train_threads (int): torch threads for training.
        repeat (int): latencies are the fastest of this many runs.
        memory_size (int): side of the pair the peak RSS is taken on.

    Returns:
        dict: ``memory``, ``speed`` and ``sets`` (results by set name).
    """
    import torch
    torch.set_num_threads(threads)
    row = dict(sets={})
    for part, fn in (('memory', lambda: measure_memory(config, memory_size)),
                     ('speed', lambda: measure_speed(config, repeat,
                                                     threads))):
        try:
            row[part] = fn()
        except Exception as e:  # noqa: BLE001  (reported in the table)
            row[part] = dict(error=one_line(e))
    # Training on one thread: on a machine shared with other jobs, a second
    # OpenMP thread mostly spins at barriers waiting for the first.
    torch.set_num_threads(train_threads)
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
    """``fn(*args)`` in a forked process.

    Args:
        fn (callable): returns something picklable.
        *args: its arguments.

    Returns:
        What ``fn`` returns, or ``dict(error='child exited <code>')`` where
        the child died before returning (e.g. out of memory).
    """
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
        # The exit code is known only once the child is joined.
        proc.join()
        result = dict(error=f'child exited {proc.exitcode}')
    proc.join()
    return result


def run_zoo(configs: list, out: str, *, command: str, sets: list,
            data_dir: str, work_dir: str, schedule: dict, threads: int,
            train_threads: int, repeat: int, memory_size: int,
            retrain: bool) -> dict:
    """Measure ``configs`` and write the table and its JSON.

    Args:
        configs (list[str]): configs, relative to the repository; the
            first is the baseline of the ratios.
        out (str): the Markdown table; the JSON goes beside it.
        command (str): the command line, quoted in the table.
        sets (list[str]): keys of :data:`.model_zoo.SETS` to train on.
        data_dir (str): where the synthetic sets are (written if missing).
        work_dir (str): where the training runs and their results are.
        schedule (dict): the training schedule
            (:func:`.model_zoo.schedule_for`).
        threads (int): threads for inference.
        train_threads (int): threads for training.
        repeat (int): latencies are the fastest of this many runs.
        memory_size (int): side of the pair the peak RSS is taken on.
        retrain (bool): train again even where a result is kept.

    Returns:
        dict: the run, as written to the JSON.
    """
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                            cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    run = dict(command=command, commit=commit, cpu=cpu_name(),
               threads=threads, train_threads=train_threads, repeat=repeat,
               memory_size=memory_size,
               date=time.strftime('%Y-%m-%d', time.gmtime()),
               schedule=schedule, sets=SETS)
    json_file = osp.splitext(out)[0] + '.json'
    rows = []
    for config in configs:
        name = model_name(config)
        print(f'[{time.strftime("%H:%M:%S")}] {name}', flush=True)
        plans = [plan_run(config, s, data_dir, work_dir, retrain, schedule)
                 for s in sets]
        row = in_child(measure_model, config, plans, threads, train_threads,
                       repeat, memory_size)
        if 'error' in row:  # the child died (e.g. out of memory)
            row = dict(speed=row, memory=row, sets={})
        rows.append(dict(row, name=name, config=config))
        print(json.dumps(rows[-1]), flush=True)
        run['rows'] = rows
        with open(json_file, 'w') as f:
            json.dump(run, f, indent=1)
        write_table(run, out)
    return run
