import random

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomDateSwap(BaseTransform):
    """Swap the two dates of a pair with probability ``prob``.

    A binary change label is the same whichever date comes first, so the
    swapped pair is another valid sample (open-cd's ``MultiImgExchangeTime``
    in its ChangerEx recipe). Place it before ``ConcatCDInput``; the paths
    are swapped with the images, so the metadata stays true.

    Args:
        prob (float): Probability of the swap. Default: 0.5.
        keys (tuple[str, str]): The images. Default: ('img', 'img2').
        path_keys (tuple[str, str]): Their paths, swapped too where present.
            Default: ('img_path', 'img_path2').
    """

    def __init__(self, prob: float = 0.5, keys=('img', 'img2'),
                 path_keys=('img_path', 'img_path2')):
        assert 0.0 <= prob <= 1.0, f'prob must be in [0, 1], got {prob}'
        self.prob = prob
        self.keys = tuple(keys)
        self.path_keys = tuple(path_keys)

    def transform(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        for a, b in (self.keys, self.path_keys):
            if a in results and b in results:
                results[a], results[b] = results[b], results[a]
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(prob={self.prob})'
