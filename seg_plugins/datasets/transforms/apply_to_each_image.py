import random
from typing import List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ApplyToEachImage(BaseTransform):
    """Run single-image transforms on each image of a pair (or series).

    Meant for photometric transforms before ``ConcatCDInput``: each date
    gets its own random brightness/contrast/... (``share_random_params=
    False``) or exactly the same ones (``True``). Geometric transforms need
    no wrapper: apply mmseg's own after ``ConcatCDInput``, where image A, B
    and the label are one array and stay aligned.

    Args:
        transforms (list[dict]): Transforms that read and write ``img``.
        keys (Sequence[str]): Image keys. Default: ('img', 'img2').
        share_random_params (bool): Replay the same random draws for every
            image (numpy's and Python's global RNG, which mmcv and mmseg
            transforms use). Default: False.
    """

    def __init__(self, transforms: List[dict],
                 keys: Sequence[str] = ('img', 'img2'),
                 share_random_params: bool = False):
        self.transforms = Compose(transforms)
        self.keys = tuple(keys)
        self.share_random_params = share_random_params

    def transform(self, results: dict) -> dict:
        np_state, py_state = np.random.get_state(), random.getstate()
        outs = {}
        for key in self.keys:
            if self.share_random_params:
                np.random.set_state(np_state)
                random.setstate(py_state)
            single = dict(results, img=results[key])
            single = self.transforms(single)
            outs[key] = single['img']
        results.update(outs)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'keys={self.keys}, '
                f'share_random_params={self.share_random_params})')
