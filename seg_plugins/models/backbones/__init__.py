from .change_unet import ChangeUNet
from .siamese_unet import SiameseStridedUNet
from .strided_conv_unet import SeedUNet, StridedConvUNet
from .vgg import VGG16

__all__ = [
    'ChangeUNet', 'SeedUNet', 'SiameseStridedUNet', 'StridedConvUNet',
    'VGG16'
]
