# The tiny change model of tests/geo, shared by the scene-inference tests.
from tests.geo.conftest import tiny  # noqa: F401
