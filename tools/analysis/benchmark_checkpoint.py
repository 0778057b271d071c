"""Cost of crash-safe checkpoints against mmengine's, in one run.

    python tools/analysis/benchmark_checkpoint.py [--config CONFIG]
        [--repeats 5] [--out-dir DIR]

Builds the config's model (default: the change demo's), runs one AdamW
step so the optimizer state exists, then writes the same checkpoint dict
``--repeats`` times each way, alternating:

- upstream: ``mmengine.runner.save_checkpoint`` (``LocalBackend.put``:
  in place, no fsync) and ``last_checkpoint`` with ``open()``;
- atomic: the same call through ``backend_args=dict(backend=
  'atomic_local')`` (temporary file, fsync, ``os.replace``, folder fsync)
  and ``last_checkpoint`` by ``atomic_write``.

Prints milliseconds per checkpoint (median) and the ratio atomic/upstream.
Both include serialisation (``torch.save``), which dominates on tmpfs; on a
disk the fsync is the difference.

``--allreduce N`` also times the per-iteration cost of the graceful-stop
flag in a distributed run: N all-reduces (max) of one int32 between 2 CPU
(gloo) processes, in microseconds per call.
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint
from mmengine.runner.checkpoint import weights_to_cpu

import seg_plugins  # noqa: F401  (registers the backend and the model)
from seg_plugins.engine import atomic_write


def checkpoint_of(config: str) -> dict:
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    return dict(meta=dict(iter=1, cfg=cfg.pretty_text),
                state_dict=weights_to_cpu(model.state_dict()),
                optimizer=opt.state_dict())


def _allreduce_worker(rank, port, n, result):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    flag = torch.zeros(1, dtype=torch.int32)
    for _ in range(20):  # warm-up
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(n):
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    if rank == 0:
        result.value = (time.perf_counter() - start) / n
    dist.destroy_process_group()


def time_allreduce(n: int) -> float:
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    result = mp.get_context('spawn').Value('d', 0.0)
    mp.spawn(_allreduce_worker, args=(port, n, result), nprocs=2)
    return result.value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/changedet_demo.py')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--allreduce', type=int, default=0, metavar='N',
                        help='also time N stop-flag all-reduces (2 gloo '
                        'processes)')
    parser.add_argument('--out-dir', help='folder on the disk to measure '
                        '(default: a temporary one under the work dir)')
    args = parser.parse_args()
    ckpt = checkpoint_of(args.config)
    out = args.out_dir or tempfile.mkdtemp(prefix='bench_ckpt_', dir='.')
    times = dict(upstream=[], atomic=[])
    for _ in range(args.repeats):
        for way in ('upstream', 'atomic'):
            path = osp.join(out, f'{way}.pth')
            start = time.perf_counter()
            if way == 'upstream':
                save_checkpoint(ckpt, path)
                with open(osp.join(out, 'last_checkpoint'), 'w') as f:
                    f.write(path)
            else:
                save_checkpoint(ckpt, path,
                                backend_args=dict(backend='atomic_local'))
                atomic_write(osp.join(out, 'last_checkpoint'), path.encode())
            times[way].append(time.perf_counter() - start)
    size = os.path.getsize(osp.join(out, 'atomic.pth'))
    up, at = (statistics.median(times[w]) * 1e3 for w in times)
    print(f'{args.config}: checkpoint {size / 2**20:.1f} MiB on {out}')
    print(f'upstream (in place, no fsync): {up:.1f} ms per checkpoint')
    print(f'atomic (tmp + fsync + rename + dir fsync): {at:.1f} ms per '
          f'checkpoint')
    print(f'ratio atomic/upstream: {at / up:.2f}x  (median of '
          f'{args.repeats})')
    for way in times:
        os.remove(osp.join(out, f'{way}.pth'))
    os.remove(osp.join(out, 'last_checkpoint'))
    if not args.out_dir:
        os.rmdir(out)
    if args.allreduce:
        t = time_allreduce(args.allreduce)
        print(f'stop-flag all_reduce (2 gloo processes): {t * 1e6:.0f} us '
              f'per iteration (mean of {args.allreduce})')


if __name__ == '__main__':
    main()
