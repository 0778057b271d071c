"""Stop (or skip the step) on a NaN / Inf loss, before it reaches the weights.

mmdet's ``CheckInvalidLossHook`` asserts after the optimizer step, when the
weights are already NaN; mmseg has nothing. This hook checks the loss
between the forward pass and the backward pass: it wraps the model's
``parse_losses`` (to know the loss terms) and the optim wrapper's
``update_params`` (to act before ``backward`` and ``step``). In a
distributed run the ranks agree (all-reduce) so they skip or stop together.
"""
import logging
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """The loss was NaN or Inf; raised before the optimizer step."""


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Refuse NaN / Inf losses.

    Args:
        action (str): ``'raise'`` stops training with
            :class:`NonFiniteLossError` naming the iteration and the loss
            terms; ``'skip'`` drops that iteration's update (no backward, no
            step) and logs a warning. Default: 'raise'.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'raise') -> None:
        assert action in ('raise', 'skip'), \
            f"action must be 'raise' or 'skip', got {action!r}"
        self.action = action
        self.skipped = 0
        self._terms: Optional[dict] = None
        self._buffers: Optional[dict] = None
        self._model = None

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if not isinstance(wrapper, OptimWrapper):
            runner.logger.warning(
                f'FiniteLossHook: {type(wrapper).__name__} is not an '
                'OptimWrapper; non-finite losses are not checked.')
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        parse_losses = model.parse_losses
        update_params = wrapper.update_params

        def parse_and_keep(losses):
            loss, log_vars = parse_losses(losses)
            self._terms = log_vars
            return loss, log_vars

        def checked_update(loss, *args, **kwargs):
            if self._finite(loss):
                return update_params(loss, *args, **kwargs)
            self._refuse(runner, wrapper)

        model.parse_losses = parse_and_keep
        wrapper.update_params = checked_update
        self._model = model

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.action == 'skip' and self._model is not None:
            self._buffers = {
                name: b.detach().clone()
                for name, b in self._model.named_buffers()
            }

    @staticmethod
    def _finite(loss: torch.Tensor) -> bool:
        bad = torch.tensor([int(not torch.isfinite(loss.detach()).all())],
                           dtype=torch.int32)
        if is_distributed() and get_world_size() > 1:
            all_reduce(bad, op='max')
        return not bad.item()

    def _refuse(self, runner, wrapper: OptimWrapper) -> None:
        terms = ', '.join(
            f'{k}={float(v):.4g}' for k, v in (self._terms or {}).items()
            if torch.is_tensor(v) and v.numel() == 1)
        where = f'iteration {runner.iter + 1}'
        if self.action == 'raise':
            raise NonFiniteLossError(
                f'non-finite loss at {where} ({terms or "on another rank"}); '
                'the weights are those of the iteration before. '
                "FiniteLossHook(action='skip') skips such steps instead.")
        self.skipped += 1
        if self._buffers is not None:
            for name, b in self._model.named_buffers():
                b.copy_(self._buffers[name])
        wrapper.zero_grad()
        wrapper._inner_count += 1  # keep gradient accumulation in step
        print_log(
            f'non-finite loss at {where} ({terms or "on another rank"}): '
            f'update skipped ({self.skipped} so far)',
            logger='current', level=logging.WARNING)
