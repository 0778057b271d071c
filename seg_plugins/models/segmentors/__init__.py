from .binary_seg_tta import BinarySegTTAModel
from .scd_encoder_decoder import SCDEncoderDecoder

__all__ = ['BinarySegTTAModel', 'SCDEncoderDecoder']
