
from .change_metric import ChangeMetric  # noqa: F401
