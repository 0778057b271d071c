"""Silence the upstream notices a user of the tools cannot act on.

Every tool run printed setuptools' ``pkg_resources`` deprecation (through
mmengine), mmseg's ``build_loss`` deprecation and other notices about the
stack's own internals before a word of its own: a newcomer reads them as
something they did wrong. Each filter here names one notice by category,
message and module, so any other warning still shows: every one this
package raises, and every upstream one about the user's data or config.

The tools call :func:`quiet_upstream` first thing and, once the runner is
built, :func:`quiet_upstream_log` on its logger (mmengine writes some of its
deprecations through the logger, not ``warnings``). A library does not
install filters for its users: importing ``seg_plugins`` changes nothing.
``pytest.ini`` ignores the same notices by name for the test suite.
"""
import logging
import re
import warnings
from typing import List, Tuple, Type

from torch.jit import TracerWarning

# (category, message regex, module regex); the comment says why the user
# cannot act on it.
UPSTREAM_WARNINGS: List[Tuple[Type[Warning], str, str]] = [
    # mmengine 0.10.7 imports pkg_resources (and reloads it through
    # importlib) to find packages; setuptools < 81 is pinned for it.
    (UserWarning, r'pkg_resources is deprecated as an API',
     r'(mmengine\.utils\.package_utils|importlib)\Z'),
    # mmseg's own decode heads build their losses with its deprecated
    # helper; configs only name the loss.
    (UserWarning, r'``build_\w+`` would be deprecated soon',
     r'mmseg\.models\.builder\Z'),
    # Every config here leaves drawing off, as mmseg's do (tools/test.py
    # --show-dir turns it on): the default, not a fault.
    (UserWarning, r'The draw is False, it means that the hook for '
     r'visualization will not take effect',
     r'mmseg\.engine\.hooks\.visualization_hook\Z'),
    # torch's ONNX exporter notes a strided slice it does not fold; the
    # graph is still right (export_onnx.py checks it against PyTorch).
    (UserWarning, r'Constant folding - Only steps=1 can be constant folded',
     r'torch\.onnx\.'),
    # InstanceNorm without running statistics normalises by the input's
    # own in eval mode too: exported "with train=True" it computes the same.
    (UserWarning, r"ONNX export mode is set to TrainingMode\.EVAL, but "
     r"operator 'instance_norm' is set to train=True",
     r'torch\.onnx\.'),
    # Input checks (band count, size) of the models, of torch's norms and
    # of mmseg read the traced shape: they hold at the export size, and
    # the graph's metadata states the sizes it takes.
    (TracerWarning, r'Converting a tensor to a Python boolean might cause '
     r'the trace to be incorrect',
     r'(seg_plugins\.models\.(backbones\.(change_unet|vgg)|utils\.('
     r'strided_unet_blocks|bitemporal_input))|torch\.nn\.(functional|'
     r'modules\.instancenorm)|mmseg\.models\.utils\.shape_convert)\Z'),
]


def quiet_upstream() -> None:
    """Ignore the notices of :data:`UPSTREAM_WARNINGS` in this process;
    every other warning keeps Python's default handling."""
    for category, message, module in UPSTREAM_WARNINGS:
        warnings.filterwarnings('ignore', message, category, module)


# mmengine's logger lines, by message regex; the comment says why the user
# cannot act on them.
UPSTREAM_LOG_NOTICES: List[str] = [
    # mmengine's CheckpointHook builds a FileClient (and with it a
    # HardDiskBackend) for compatibility even when configs use backend_args.
    r'"FileClient" will be deprecated in future',
    r'"HardDiskBackend" is the alias of "LocalBackend"',
    # mmseg's metrics and ours log unprefixed keys (mIoU, F1): the names
    # the configs' save_best and the README use.
    r'The prefix is not set in metric class',
]


class UpstreamLogFilter(logging.Filter):
    """Drops the logger records of :data:`UPSTREAM_LOG_NOTICES`."""

    pattern = re.compile('|'.join(f'(?:{m})' for m in UPSTREAM_LOG_NOTICES))

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.match(str(record.msg))


def quiet_upstream_log(logger: logging.Logger) -> None:
    """Drop :data:`UPSTREAM_LOG_NOTICES` from ``logger`` (the runner's
    ``MMLogger``: its terminal and its log file)."""
    if not any(isinstance(f, UpstreamLogFilter) for f in logger.filters):
        logger.addFilter(UpstreamLogFilter())
