from . import backbones, data_preprocessors, decode_heads, segmentors  # noqa: F401  (registration)
