from .binary_seg_tta import BinarySegTTAModel
from .scd_encoder_decoder import SCDEncoderDecoder
from .scd_tta import SCDTTAModel

__all__ = ['BinarySegTTAModel', 'SCDEncoderDecoder', 'SCDTTAModel']
