import pytest

from tests.geo.scene_fixture import write_tiny_model


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny change model, with its config and checkpoint paths."""
    from seg_plugins.apis import init_change_model
    root = tmp_path_factory.mktemp('tiny')
    config, ckpt = write_tiny_model(root)
    return init_change_model(str(config), str(ckpt)), config, ckpt
