"""seg_plugins.utils.quiet_upstream: the upstream notices are dropped by
category, message and module, every other warning still shows."""
import logging
import warnings

import pytest
from mmengine.fileio import FileClient
from mmengine.logging import MMLogger

from seg_plugins.utils.quiet_upstream import (
    UPSTREAM_WARNINGS,
    quiet_upstream,
    quiet_upstream_log,
)

PKG = ('pkg_resources is deprecated as an API. See https://setuptools.pypa.'
       'io/en/latest/pkg_resources.html.')


def shown(message, category, module) -> bool:
    """Whether a warning attributed to ``module`` gets through after
    :func:`quiet_upstream`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        quiet_upstream()
        warnings.warn_explicit(message, category, f'{module}.py', 1,
                               module=module)
    return bool(caught)


@pytest.mark.parametrize('category,message,module', [
    (UserWarning, PKG, 'mmengine.utils.package_utils'),
    (UserWarning, PKG, 'importlib'),
    (UserWarning, '``build_loss`` would be deprecated soon, please use '
     '``mmseg.registry.MODELS.build()``', 'mmseg.models.builder'),
])
def test_upstream_notices_are_dropped(category, message, module):
    assert not shown(message, category, module)


@pytest.mark.parametrize('category,message,module', [
    # the same notice from another module: not one we know to be harmless
    (UserWarning, PKG, 'some_plugin'),
    (UserWarning, '``build_loss`` would be deprecated soon', 'seg_plugins'),
    # same module, another category or message
    (DeprecationWarning, PKG, 'importlib'),
    (UserWarning, 'the label has values outside the palette',
     'mmseg.models.builder'),
])
def test_every_other_warning_shows(category, message, module):
    assert shown(message, category, module)


def test_filters_name_category_message_and_module():
    assert all(issubclass(c, Warning) and m and mod
               for c, m, mod in UPSTREAM_WARNINGS)


def test_log_filter_drops_mmengine_notices_only():
    """The real FileClient call of mmengine's CheckpointHook logs two
    deprecation notices; with the filter the runner's logger drops them
    and keeps its other warnings."""
    logger = MMLogger.get_instance('test_quiet_upstream_log')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        FileClient.infer_client(None, '.')
        assert any('deprecated' in r.getMessage() for r in records)
        records.clear()
        quiet_upstream_log(logger)
        quiet_upstream_log(logger)  # once only
        assert sum(type(f).__name__ == 'UpstreamLogFilter'
                   for f in logger.filters) == 1
        FileClient.infer_client(None, '.')
        logger.warning('the checkpoint has no meta')
        assert [r.getMessage() for r in records] == [
            'the checkpoint has no meta']
    finally:
        logger.removeHandler(handler)
