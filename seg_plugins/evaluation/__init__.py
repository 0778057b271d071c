
from .change_metric import ChangeMetric  # noqa: F401
from .scd_metric import SCDMetric  # noqa: F401
