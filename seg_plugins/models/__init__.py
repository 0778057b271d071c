from . import (  # noqa: F401  (registration)
    backbones,
    change_detectors,
    data_preprocessors,
    decode_heads,
    segmentors,
)
