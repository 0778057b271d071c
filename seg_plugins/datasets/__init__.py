
from . import transforms  # noqa: F401
from .bitemporal_change import BiTemporalChangeDataset  # noqa: F401
from .pennfudan import PennFudanDataset  # noqa: F401
from .pennfudan_semantic import PennFudanSemanticDataset  # noqa: F401
from .second_scd import SECONDDataset  # noqa: F401
from .voc_checked import CheckedVOCDataset  # noqa: F401
