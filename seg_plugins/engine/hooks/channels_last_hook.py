"""Train with the model's convolution weights in channels-last (NHWC)
layout, the layout oneDNN's CPU convolutions compute in.

In the default NCHW layout each convolution reorders its input and output,
forward and backward; with channels-last weights a convolution returns
channels-last activations and the next one takes them as they are. Only
strides change: values, the state dict and checkpoints are the same.
"""
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Put the model's 4-D parameters and buffers in
    ``torch.channels_last`` before training starts (and before a resumed
    run loads its checkpoint into them).

    ``tools/train.py --amp`` adds it on the CPU, where bf16 convolutions
    run on AMX in that layout. A model already wrapped for distributed
    training is left as it is: DDP lays out its gradient buckets when it
    wraps the model, so the layout must be chosen before that.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if is_model_wrapper(runner.model):
            print_log(
                'ChannelsLastHook: the model is wrapped '
                f'({type(runner.model).__name__}); it keeps its layout',
                logger='current')
            return
        runner.model.to(memory_format=torch.channels_last)
