from . import backbones, data_preprocessors, decode_heads  # noqa: F401
