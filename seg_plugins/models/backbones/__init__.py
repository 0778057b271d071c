from .seed_unet import SeedUNet

__all__ = ['SeedUNet']
