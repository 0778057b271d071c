"""Change-detection networks of today, each written from its paper.

Each module registers its classes into ``mmseg.registry.MODELS``.
"""
from . import bit, changer, hanet, lightcdnet, siamese_resnet, snunet, tinycd  # noqa: F401  (registration)
