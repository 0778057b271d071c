from .binary_change_head import BinaryChangeHead  # noqa: F401
