"""``CheckpointHook`` that never loses work.

mmengine 0.10.7's ``CheckpointHook`` (hooks/checkpoint_hook.py) deletes the
oldest kept checkpoint *before* writing its successor, deletes the previous
best *before* writing the new best, writes ``.pth`` files and
``last_checkpoint`` in place, saves no RNG state and dies on SIGTERM. This
subclass keeps every upstream argument and behaviour except those:

- every file goes through :func:`~seg_plugins.utils.atomic_io.atomic_write`
  (temporary name, fsync, ``os.replace``, folder fsync);
- ``last_checkpoint`` is replaced only after its checkpoint is durable, and
  the stale interval checkpoint and the previous best are removed only after
  their successors are in place;
- the checkpoint carries the python / numpy / torch / CUDA RNG states of
  every rank, restored just before the first resumed training batch is
  drawn; validation no longer moves the training RNG, so a resumed
  iteration-based run continues bit-identically;
- SIGTERM / SIGINT: the current iteration finishes, a checkpoint is written
  and the process exits with :data:`~seg_plugins.utils.preemption.
  EXIT_PREEMPTED` (75);
- model weights that are not finite are never written.
"""
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import (
    all_gather_object,
    barrier,
    get_rank,
    get_world_size,
    is_distributed,
    is_main_process,
)
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...utils.atomic_io import atomic_write
from ...utils.preemption import Preempted, StopSignal
from ..rng_state import capture_rng_state, restore_rng_state

RNG_KEY = 'rng_state'


class _DeferRemovals:
    """A file backend proxy that records ``remove``/``rmtree`` instead of
    doing them, so that upstream's best-checkpoint logic can run unchanged
    and the previous best be removed after the new one is written."""

    def __init__(self, backend, removed: list):
        self._backend = backend
        self._removed = removed

    def remove(self, path):
        self._removed.append(('remove', path))

    def rmtree(self, path):
        self._removed.append(('rmtree', path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


class _RestoreRngBeforeBatch:
    """Wraps ``IterBasedTrainLoop.dataloader_iterator`` on resume.

    The loop replays ``skip`` batches (upstream's way of reaching the data
    position); the RNG states are restored after them, just before the
    first batch of the resumed iteration is drawn, when the uninterrupted
    run had exactly those states.
    """

    def __init__(self, loop, skip: int, state: dict):
        self._loop = loop
        self._inner = loop.dataloader_iterator
        self._skip = skip
        self._state = state

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip == 0:
            restore_rng_state(self._state)
            self._loop.dataloader_iterator = self._inner
        self._skip -= 1
        return next(self._inner)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, crash-safe. See the module docstring.

    Args:
        exact_resume (bool): Save RNG states and restore them on resume;
            validation runs on its own copy of the RNG. Default: True.
        handle_signals (bool): Stop gracefully on SIGTERM / SIGINT.
            Default: True.
        **kwargs: Every argument of mmengine's ``CheckpointHook``.
    """

    def __init__(self,
                 *args,
                 exact_resume: bool = True,
                 handle_signals: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exact_resume = exact_resume
        self.stop_signal = StopSignal() if handle_signals else None
        self._rng_before_val: Optional[dict] = None
        self._resumed: Optional[dict] = None
        self._saved_iter: Optional[int] = None
        self._pending_rng: Optional[list] = None

    # -- set-up ------------------------------------------------------------

    def before_train(self, runner) -> None:
        out_dir = str(self.out_dir or runner.work_dir)
        if (self.backend_args is None and self.file_client_args is None
                and '://' not in out_dir):
            self.backend_args = dict(backend='atomic_local')
        super().before_train(runner)
        if self.stop_signal is not None:
            self.stop_signal.armed = True

    def after_run(self, runner) -> None:
        if self.stop_signal is not None:
            self.stop_signal.armed = False
            self.stop_signal.restore()

    # -- RNG states --------------------------------------------------------

    def _rng_for_checkpoint(self) -> list:
        """Training RNG states of every rank (a collective when
        distributed). Inside validation: the states it started from."""
        local = self._rng_before_val or capture_rng_state()
        if is_distributed() and get_world_size() > 1:
            return all_gather_object(local)
        return [local]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.exact_resume and self._pending_rng is not None:
            checkpoint[RNG_KEY] = self._pending_rng

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get(RNG_KEY)
        meta = checkpoint.get('meta', {})
        if not self.exact_resume or not states:
            return
        if len(states) != get_world_size():
            runner.logger.warning(
                f'The checkpoint holds RNG states of {len(states)} '
                f'process(es), this run has {get_world_size()}: resuming '
                'without them (not bit-identical).')
            return
        self._resumed = dict(state=states[get_rank()], iter=meta.get('iter'))

    def before_train_epoch(self, runner) -> None:
        resumed, self._resumed = self._resumed, None
        # load_from (fine-tuning) also loads a checkpoint: only a resume
        # sets the loop's counter to the checkpoint's.
        if resumed is None or not runner.iter or \
                runner.iter != resumed['iter']:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based
            loop.dataloader_iterator = _RestoreRngBeforeBatch(
                loop, runner.iter, resumed['state'])
        else:  # epoch-based: the epoch's dataloader is not iterated yet
            restore_rng_state(resumed['state'])

    def before_val(self, runner) -> None:
        if self.exact_resume:
            self._rng_before_val = capture_rng_state()

    def after_val(self, runner) -> None:
        state, self._rng_before_val = self._rng_before_val, None
        if state is not None:
            restore_rng_state(state)

    # -- writing -----------------------------------------------------------

    def _check_finite(self, runner, filename: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        bad = [
            name for name, t in model.state_dict().items()
            if t.is_floating_point() and not torch.isfinite(t).all()
        ]
        if bad:
            raise FloatingPointError(
                f'not writing {filename}: the model has non-finite weights '
                f'at iteration {runner.iter + 1} ({", ".join(bad[:5])}'
                f'{", ..." if len(bad) > 5 else ""})')

    def _write(self, runner, ckpt_filename: str, meta: dict) -> None:
        """Write one checkpoint durably, then point last_checkpoint at it."""
        self._check_finite(runner, ckpt_filename)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._pending_rng = self._rng_for_checkpoint()
        try:
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        finally:
            self._pending_rng = None
        self._saved_iter = meta['iter']
        if is_main_process():
            atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                         str(self.last_ckpt).encode())

    def _save_checkpoint_with_step(self, runner, step, meta):
        # Upstream's bookkeeping, reordered: write, then point
        # last_checkpoint at it, then remove the stale one.
        stale = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        self._write(runner, self.filename_tmpl.format(step), meta)
        if stale is None or stale == step or not is_main_process():
            return
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(stale))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints
            self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        self._check_finite(runner, 'the best checkpoint')
        backend, removed = self.file_backend, []
        self.file_backend = _DeferRemovals(backend, removed)
        self._pending_rng = self._rng_for_checkpoint()
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
            self._pending_rng = None
        keep = {self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for how, path in removed:
            if path not in keep:
                getattr(backend, how)(path)

    # -- graceful stop -----------------------------------------------------

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if self.stop_signal is None or not self.stop_signal.should_stop():
            return
        if self._saved_iter != runner.iter + 1:
            if self.by_epoch:
                # Outside the kept rotation; an epoch-based loop restarts
                # the unfinished epoch on resume.
                self._write(
                    runner, f'epoch_{runner.epoch + 1}_iter_'
                    f'{runner.iter + 1}.pth',
                    meta=dict(epoch=runner.epoch, iter=runner.iter + 1))
            else:
                self._save_checkpoint(runner)
        if is_distributed():
            barrier()  # rank 0 has written before anyone exits
        cfg = getattr(runner.cfg, 'filename', None) or 'CONFIG'
        runner.logger.warning(
            f'Stopped by {self.stop_signal.received or "a signal"} (another '
            f'rank\'s, if none here) after iteration {runner.iter + 1}; '
            f'checkpoint {self.last_ckpt}. Resume with: python '
            f'tools/train.py {cfg} --work-dir {runner.work_dir} --resume  '
            f'(exit code {Preempted().code})')
        raise Preempted()
