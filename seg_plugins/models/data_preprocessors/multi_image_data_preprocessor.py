from numbers import Number
from typing import Any, Dict, Optional, Sequence, Union

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class MultiImageSegDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for T images of C channels stacked as T*C.

    mmseg's preprocessor converts BGR to RGB only for 3-channel inputs, so a
    concatenated pair (6 channels) silently stays BGR while its mean/std are
    RGB. Here the channel order is converted per image and mean/std are
    given per image, for any T and C.

    Args:
        num_images (int): Images per sample (T). Default: 2.
        mean (Sequence[Number] | Sequence[Sequence[Number]], optional): C
            values shared by every image, or T lists of C values.
        std: Like ``mean``.
        bgr_to_rgb (bool): Reverse the channels of every 3-channel image
            (mmcv loads BGR). Default: False.
        rgb_to_bgr (bool): The same, for the opposite direction.
        **kwargs: The other arguments of ``SegDataPreProcessor`` (size,
            size_divisor, pad_val, seg_pad_val, test_cfg, ...).
    """

    def __init__(self,
                 num_images: int = 2,
                 mean: Optional[Sequence[Union[Number, Sequence]]] = None,
                 std: Optional[Sequence[Union[Number, Sequence]]] = None,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 **kwargs):
        assert num_images >= 1, f'num_images must be >= 1, got {num_images}'
        assert not (bgr_to_rgb and rgb_to_bgr), (
            'bgr_to_rgb and rgb_to_bgr cannot both be True')
        self.num_images = num_images
        super().__init__(
            mean=self._per_channel(mean, 'mean'),
            std=self._per_channel(std, 'std'),
            bgr_to_rgb=False,
            rgb_to_bgr=False,
            **kwargs)
        self.swap_channels = bgr_to_rgb or rgb_to_bgr
        self.channels = (None if mean is None else
                         len(self.mean) // num_images)

    def _per_channel(self, values, name):
        """Flatten ``values`` to T*C numbers."""
        if values is None:
            return None
        if isinstance(values[0], Number):
            return list(values) * self.num_images
        assert len(values) == self.num_images, (
            f'{name} needs one list per image ({self.num_images}), got '
            f'{len(values)}')
        assert len({len(v) for v in values}) == 1, (
            f'{name}: every image needs the same number of channels')
        return [x for v in values for x in v]

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Args:
            data (dict): ``inputs``: list of (T*C, H, W) tensors.

        Returns:
            dict: ``inputs`` (N, T*C, H', W') float, normalised per channel;
            ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        t = self.num_images
        for x in inputs:
            c_all = x.shape[0]
            if c_all % t or (self.channels and c_all != t * self.channels):
                expected = (f'{t} x {self.channels} = {t * self.channels}'
                            if self.channels else f'a multiple of {t}')
                raise ValueError(
                    f'{type(self).__name__}: an input has {c_all} channels, '
                    f'expected num_images x channels = {expected}. A flat '
                    'mean/std holds the channels of one image and is shared '
                    'by every image: give C values (not T*C), or one list '
                    'per image.')
        if self.swap_channels and inputs[0].shape[0] // t == 3:
            inputs = [
                x.view(t, 3, *x.shape[1:]).flip(1).reshape(x.shape)
                for x in inputs
            ]
        return super().forward(dict(data, inputs=inputs), training)
