from .binary_seg_tta import BinarySegTTAModel

__all__ = ['BinarySegTTAModel']
