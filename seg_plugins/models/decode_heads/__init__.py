from .binary_change_head import BinaryChangeHead  # noqa: F401
from .fcn_heads import SkipFCNHead  # noqa: F401
from .scd_head import SCDHead  # noqa: F401
