from .change_unet import ChangeUNet
from .seed_unet import SeedUNet

__all__ = ['ChangeUNet', 'SeedUNet']
