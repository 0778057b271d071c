from .change_unet import ChangeUNet
from .strided_conv_unet import SeedUNet, StridedConvUNet
from .vgg import VGG16

__all__ = ['ChangeUNet', 'SeedUNet', 'StridedConvUNet', 'VGG16']
