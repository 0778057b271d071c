"""Config set-up shared by ``tools/train.py`` and ``tools/test.py``.

Upstream's tools assume CUDA for distributed runs: mmengine's ``init_dist``
calls ``torch.cuda.set_device`` and its runner wraps the model in DDP with
``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only machine. The
helpers here make the same configs run there (gloo, no device ids) and leave
GPU runs exactly as upstream does them.
"""
import contextlib
import os
import os.path as osp
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict, DictAction


def parse_runner_args(parser):
    """Add the options train.py and test.py share, then parse.

    ``--local-rank`` is what ``torch.distributed.launch`` passes; torchrun
    sets ``LOCAL_RANK`` itself.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (a.b=1, x=[a,b])')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(config: str, cfg_options=None, work_dir=None,
                launcher: str = 'none') -> Config:
    """Read ``config``, apply ``--cfg-options`` and pick the work dir the way
    mmseg's and mmdet's tools do (``./work_dirs/<config name>``)."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def setup_device(cfg: Config) -> None:
    """Adapt ``cfg`` to a machine without CUDA; a no-op where CUDA exists.

    On CPU: gloo instead of nccl, DDP without ``device_ids``, and the process
    group initialised here (from torchrun's or slurm's environment) so that
    mmengine does not call ``torch.cuda.set_device``.
    """
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    if cfg.launcher == 'none':
        return
    wrapper = cfg.get('model_wrapper_cfg', None) or ConfigDict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # DDP refuses device ids for CPU modules
    cfg.model_wrapper_cfg = wrapper
    if cfg.launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        # parse_runner_args has set LOCAL_RANK to --local-rank's default.
        os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            # The job's first node, as mmengine's _init_dist_slurm finds it.
            os.environ['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {os.environ["SLURM_NODELIST"]} | '
                'head -n1')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')


@contextlib.contextmanager
def process_group_closed_at_end():
    """Destroy the default process group when the body ends, before the
    interpreter does.

    Without it, gloo's worker threads can still hold work objects when the
    interpreter is torn down, and the rank aborts at exit ("terminate
    called without an active exception", SIGABRT) after a run that
    succeeded: torchrun then reports the job as failed. Seen on torch 2.14
    after ``tools/test.py`` printed its metrics over 2 CPU processes.

    Destroyed on a normal end and on ``SystemExit`` (a graceful stop, which
    every rank reaches after the same iteration, or a clean error exit);
    not on other exceptions, where another rank may still be waiting in a
    collective and destroying could hang (torchrun ends the job anyway).
    """
    try:
        yield
    except SystemExit:
        _destroy_process_group()
        raise
    _destroy_process_group()


def _destroy_process_group() -> None:
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def default_scope(cfg: Config) -> str:
    """'mmseg' or 'mmdet', from the config's ``default_scope``."""
    scope = cfg.get('default_scope', 'mmseg')
    if scope not in ('mmseg', 'mmdet'):
        raise ValueError(f"default_scope must be 'mmseg' or 'mmdet', got "
                         f'{scope!r} in {cfg.filename}')
    return scope


def build_runner(cfg: Config):
    """Build the runner named by ``runner_type`` (mmengine ``Runner`` by
    default), as upstream's tools do."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def make_crash_safe(cfg: Config) -> None:
    """Give any config the crash-safe checkpoint and loss hooks.

    A plain mmengine ``CheckpointHook`` (or none, for which mmengine would
    add one with ``interval=1``) becomes ``SafeCheckpointHook`` with the same
    arguments; ``FiniteLossHook`` is added unless the config has one. Users
    change nothing in their configs.
    """
    from mmengine.hooks import CheckpointHook
    from mmengine.logging import print_log
    hooks = cfg.setdefault('default_hooks', ConfigDict())
    ckpt = hooks.get('checkpoint', ConfigDict(type='CheckpointHook',
                                              interval=1))
    if ckpt is not None:
        kind = ckpt.get('type')
        if kind is CheckpointHook or (isinstance(kind, str) and kind.split(
                '.')[-1] == 'CheckpointHook'):
            ckpt['type'] = 'SafeCheckpointHook'
            print_log(
                'default_hooks.checkpoint: CheckpointHook -> '
                'SafeCheckpointHook (atomic writes, exact resume, graceful '
                'SIGTERM), same arguments', logger='current')
        hooks['checkpoint'] = ckpt
    custom = list(cfg.get('custom_hooks', None) or [])
    if not any(str(h.get('type')).split('.')[-1] == 'FiniteLossHook'
               for h in custom):
        custom.append(ConfigDict(type='FiniteLossHook'))
        cfg.custom_hooks = custom



def _worker_init_ignoring_stop_signals(worker_id: int, **kwargs) -> None:
    """mmengine's seeded ``worker_init_fn``, then SIGTERM / SIGINT ignored.

    torchrun's shutdown signals each rank's whole process group, as slurm's
    time limit does: torch's dataloader workers would die of it and the rank
    crash before it writes its checkpoint. The rank stops its workers itself
    (and :func:`_kill_workers_at_exit` makes sure of it).
    """
    import signal

    from mmengine.dataset import worker_init_fn
    worker_init_fn(worker_id, **kwargs)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _kill_workers_at_exit() -> None:
    """multiprocessing's own exit handler SIGTERMs daemonic children and then
    waits for them, forever for workers that ignore SIGTERM: SIGKILL them
    first (atexit runs this before it, last registered first)."""
    import multiprocessing
    import signal

    # torch's SIGCHLD handler would report the killed workers as a crash.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for child in multiprocessing.active_children():
        if child.daemon:
            child.kill()


def workers_ignore_stop_signals(runner) -> None:
    """Make the train dataloader's workers (started later, in
    ``runner.train()``) ignore SIGTERM / SIGINT, keeping mmengine's worker
    seeding. A config's own ``worker_init_fn`` is left alone."""
    import atexit

    from mmengine.dist import get_rank
    loader = runner._train_dataloader  # still the config before train()
    if not isinstance(loader, dict) or 'worker_init_fn' in loader or \
            not loader.get('num_workers'):
        return
    loader['worker_init_fn'] = dict(
        type=_worker_init_ignoring_stop_signals,
        num_workers=loader['num_workers'],
        rank=get_rank(),
        seed=runner.seed,
        disable_subprocess_warning=loader.pop('disable_subprocess_warning',
                                              False))
    atexit.register(_kill_workers_at_exit)
