from .change_unet import ChangeUNet
from .seed_unet import SeedUNet
from .vgg import VGG16

__all__ = ['ChangeUNet', 'SeedUNet', 'VGG16']
