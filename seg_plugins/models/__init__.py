from . import backbones, decode_heads  # noqa: F401  (registration)
