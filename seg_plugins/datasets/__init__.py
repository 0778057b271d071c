
from . import transforms  # noqa: F401
from .bitemporal_change import BiTemporalChangeDataset  # noqa: F401
