"""Colour-label decoding: ours (``PaletteDecoder``) vs a 256^3 colour table.

The tutorial "pytorch使用voc分割数据集训练FCN流程讲解" builds
``cm2lbl = np.zeros(256 ** 3)`` (float64) once per dataset and decodes each
label with ``cm2lbl[(r * 256 + g) * 256 + b]``. Both decode the same
VOC-like 500x375 RGB label (21 classes + the border colour, plus a few
unknown colours) from a PIL image, as the tutorial's loader gets it; outputs
are checked equal before timing. Prints ms per label, the ratio and the
memory of each lookup, and two references measured in the same run:

- one 256-entry ``cv2.LUT`` pass over a single (H, W) uint8 plane, the
  cheapest table step there is. An exact decoder reads all three channels,
  so it costs at least about this much; table / one pass bounds the
  speed-up any table-based decoder can show.
- reading the label PNG itself (``mmcv.imfrombytes``, as
  ``LoadColorAnnotations`` does), to show what share of loading a label
  the decode is.

    python tools/analysis/benchmark_color_decode.py [--repeat 300]
"""
import argparse
import time

import cv2
import mmcv
import numpy as np
from PIL import Image

from seg_plugins.datasets.transforms.color_label import (
    VOC_IGNORE_COLORS,
    VOC_PALETTE,
    PaletteDecoder,
)
from seg_plugins.utils.voc_synthetic import voc_colormap


class ColorCubeTableDecoder:
    """``VOC_SEG.cm2lbl`` / ``_image2label`` of the FCN/VOC tutorial,
    verbatim: one float64 entry per colour of the 256^3 cube."""

    def __init__(self, colormap):
        self.cm2lbl = np.zeros(256**3)
        for i, cm in enumerate(colormap):
            self.cm2lbl[(cm[0] * 256 + cm[1]) * 256 + cm[2]] = i

    def _image2label(self, im):
        data = np.array(im, dtype='int32')
        idx = (data[:, :, 0] * 256 + data[:, :, 1]) * 256 + data[:, :, 2]
        return np.array(self.cm2lbl[idx], dtype='int64')


def voc_like_label(height, width, seed=0):
    """An RGB label: blocks of VOC classes, 1-pixel border bands (index
    255) and a few unknown colours (JPEG-like noise)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, 21, (height // 25 + 1, width // 25 + 1))
    index = index.repeat(25, 0).repeat(25, 1)[:height, :width].astype(
        np.uint8)
    index[::25] = 255
    index[:, ::25] = 255
    rgb = voc_colormap()[index]
    noise = rng.random((height, width)) < 0.001
    rgb[noise] = (3, 5, 7)
    return Image.fromarray(rgb), index, noise


def per_call_ms(fn, repeat):
    """Median of ``repeat`` timed calls, in ms (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--repeat', type=int, default=300)
    parser.add_argument('--threads', type=int, default=1,
                        help='OpenCV threads (1: like a dataloader worker)')
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)

    pil, index, noise = voc_like_label(args.height, args.width)
    start = time.perf_counter()
    table = ColorCubeTableDecoder(VOC_PALETTE)
    table_build_ms = 1e3 * (time.perf_counter() - start)
    ours = PaletteDecoder(VOC_PALETTE, VOC_IGNORE_COLORS)

    # Same labels (the tutorial maps the border and unknown colours to 0,
    # background; we map them to 255, ignored).
    expected = np.where(noise, 255, index)
    got = ours.decode(np.asarray(pil))
    assert np.array_equal(got, expected), 'ours: wrong labels'
    table_out = table._image2label(pil)
    assert np.array_equal(table_out,
                          np.where(expected == 255, 0, expected)), \
        'colour-cube table: wrong labels'

    bgr = np.ascontiguousarray(np.asarray(pil)[..., ::-1])
    t_table = per_call_ms(lambda: table._image2label(pil), args.repeat)
    t_ours = per_call_ms(lambda: ours.decode(np.asarray(pil)), args.repeat)
    t_ours_bgr = per_call_ms(lambda: ours.decode(bgr, 'bgr'), args.repeat)
    plane = np.ascontiguousarray(bgr[..., 0])
    identity = np.arange(256, dtype=np.uint8)
    t_pass = per_call_ms(lambda: cv2.LUT(plane, identity), args.repeat)
    png = cv2.imencode('.png', bgr)[1].tobytes()
    t_read = per_call_ms(lambda: mmcv.imfrombytes(png, 'unchanged'),
                         max(args.repeat // 10, 10))
    print(f'label {args.width}x{args.height}, median of {args.repeat} calls, '
          f'{args.threads} OpenCV thread(s)')
    print(f'tutorial (256^3 float64 table): {t_table:.3f} ms/label, lookup '
          f'{table.cm2lbl.nbytes / 2**20:.1f} MiB, built in '
          f'{table_build_ms:.0f} ms, output int64 '
          f'{table_out.nbytes / 2**20:.2f} MiB')
    print(f'ours (PaletteDecoder):          {t_ours:.3f} ms/label from PIL, '
          f'{t_ours_bgr:.3f} ms/label from a BGR array (mmcv); lookup '
          f'{ours.nbytes} bytes, output uint8 {got.nbytes / 2**20:.2f} MiB')
    print(f'speed-up: {t_table / t_ours:.1f}x (from PIL), '
          f'{t_table / t_ours_bgr:.1f}x (BGR array); lookup memory: '
          f'{table.cm2lbl.nbytes / ours.nbytes:.0f}x smaller')
    print(f'one cv2.LUT pass over one (H, W) plane: {t_pass:.3f} ms, '
          f'table / one pass = {t_table / t_pass:.1f}x (the bound for any '
          f'decoder with a table pass); ours costs '
          f'{t_ours_bgr / t_pass:.1f} passes')
    print(f'reading the label PNG ({len(png) / 1024:.0f} KiB, '
          f'mmcv.imfrombytes): {t_read:.3f} ms; our decode adds '
          f'{100 * t_ours_bgr / t_read:.0f}%, the table\'s '
          f'{100 * t_table / t_read:.0f}%')


if __name__ == '__main__':
    main()
