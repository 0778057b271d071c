import pytest
import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import seg_plugins  # noqa: F401

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def build(**kwargs):
    cfg = dict(type='MultiImageSegDataPreProcessor', num_images=2,
               mean=[10., 20., 30.], std=[1., 2., 5.], bgr_to_rgb=True)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_bgr_to_rgb_and_normalisation_per_image():
    # BGR inputs: A = (b, g, r) = (30, 20, 10) + 1, B = the same + 2
    a = torch.tensor([31., 22., 11.]).view(3, 1, 1).expand(3, 4, 4)
    b = torch.tensor([32., 24., 12.]).view(3, 1, 1).expand(3, 4, 4)
    x = torch.cat([a, b]).to(torch.uint8)
    out = build()(dict(inputs=[x], data_samples=[SegDataSample()]))
    got = out['inputs'][0, :, 0, 0]
    # RGB after conversion: A (11, 22, 31), B (12, 24, 32)
    want = torch.tensor([(11 - 10) / 1, (22 - 20) / 2, (31 - 30) / 5,
                         (12 - 10) / 1, (24 - 20) / 2, (32 - 30) / 5])
    torch.testing.assert_close(got, want)


def test_per_date_statistics_and_other_channel_counts():
    pre = build(num_images=3, mean=[[0.], [10.], [20.]],
                std=[[1.], [1.], [2.]], bgr_to_rgb=False)
    x = torch.full((3, 2, 2), 20, dtype=torch.uint8)
    out = pre(dict(inputs=[x], data_samples=[SegDataSample()]))
    torch.testing.assert_close(out['inputs'][0, :, 0, 0],
                               torch.tensor([20., 10., 0.]))


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match='4 channels, expected num_images '
                       r'x channels = 2 x 3 = 6'):
        build()(dict(inputs=[torch.zeros(4, 2, 2, dtype=torch.uint8)],
                     data_samples=[SegDataSample()]))
    # open-cd style T*C flat statistics: the message says what to change.
    flat = build(mean=[1, 2, 3] * 2, std=[1] * 6)
    with pytest.raises(ValueError, match=r'= 2 x 6 = 12\. A flat mean/std '
                       r'holds the channels of one image'):
        flat(dict(inputs=[torch.zeros(6, 2, 2, dtype=torch.uint8)],
                  data_samples=[SegDataSample()]))
