"""Test-only hook: make the loss of one training iteration NaN.

It zeroes the data preprocessor's ``std`` (a non-persistent buffer, so no
NaN reaches a checkpoint through it) for that iteration: the normalised
inputs, the forward pass and the loss become NaN/Inf as with a real
overflow. Imported by the tests through ``custom_imports``.
"""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class NaNLossAtIterHook(Hook):
    priority = 'VERY_HIGH'

    def __init__(self, iteration: int):
        self.iteration = iteration  # 1-based, as the log counts
        self._std = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.iteration:
            pre = runner.model.data_preprocessor
            self._std = pre.std.clone()
            pre.std.zero_()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self._std is not None:
            runner.model.data_preprocessor.std.copy_(self._std)
            self._std = None
