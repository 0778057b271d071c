from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """Mixed-precision training in bfloat16, on the CPU or a GPU.

    The forward pass and loss run under ``torch.autocast`` in bf16; weights,
    gradients and optimizer state stay fp32. bf16 has fp32's exponent
    range, so unlike fp16 it needs no loss scaler, and everything else is
    :class:`mmengine.optim.OptimWrapper`'s (gradient accumulation, clipping,
    state dict). mmengine's ``AmpOptimWrapper`` refuses a CPU; on CPUs with
    AMX or AVX512-BF16 the convolutions then run on bf16 matrix units.

    Args:
        device_type (str, optional): 'cpu' or 'cuda'; default: where the
            model's parameters are, when training starts.
        **kwargs: :class:`mmengine.optim.OptimWrapper`'s arguments.
    """

    def __init__(self, *args, device_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module):
        kind = self.device_type or next(model.parameters()).device.type
        # No weight cache: mmengine's train_step may run a no_grad forward
        # inside this context, and a cached bf16 copy of a weight made there
        # would be reused after the optimizer changed the weight.
        with super().optim_context(model), torch.autocast(
                kind, dtype=torch.bfloat16, cache_enabled=False):
            yield
