"""Load colour-coded (RGB) label PNGs as class indices.

The tutorial "pytorch使用voc分割数据集训练FCN流程讲解" maps colours with a
256**3 float64 table (134 MB) indexed by ``(r * 256 + g) * 256 + b``. Here
each channel goes through its own 256-entry table to a small bit field, the
three fields are OR-ed into one byte and a 256-entry table gives the class:
four 256-byte tables in all, and every step is one vectorised OpenCV pass over
uint8 data. Palettes whose channels take too many distinct values for 8 bits
fall back to a binary search over the sorted packed colours (still a table of
one entry per colour).
"""
import logging
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import PascalVOCDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ...utils.image_io import check_label_size, read_image

VOC_PALETTE = tuple(tuple(c) for c in PascalVOCDataset.METAINFO['palette'])
# VOC's object borders / "difficult" pixels: index 255 in its palette PNGs.
VOC_IGNORE_COLORS = ((224, 224, 192), )


class PaletteDecoder:
    """Map RGB colours to class indices with tables of a few hundred bytes.

    Args:
        palette (Sequence[Sequence[int]]): colour (r, g, b) of class ``i`` at
            position ``i``.
        ignore_colors (Sequence[Sequence[int]]): colours mapped to
            ``ignore_index`` without counting as unknown. Default: ().
        ignore_index (int): label of ignored and unknown colours.
            Default: 255.
    """

    def __init__(self,
                 palette: Sequence[Sequence[int]],
                 ignore_colors: Sequence[Sequence[int]] = (),
                 ignore_index: int = 255):
        colors = np.asarray(palette, dtype=np.int64).reshape(-1, 3)
        ignore = np.asarray(ignore_colors, dtype=np.int64).reshape(-1, 3)
        assert 0 < len(colors) <= 255, (
            f'palette must have 1..255 colours (uint8 labels), got '
            f'{len(colors)}')
        assert 0 <= ignore_index <= 255 and ignore_index >= len(colors), (
            f'ignore_index must be in [{len(colors)}, 255], got '
            f'{ignore_index}')
        known = np.concatenate([colors, ignore])
        assert known.min() >= 0 and known.max() <= 255, (
            'palette and ignore colours must be in 0..255')
        uniq, counts = np.unique(known, axis=0, return_counts=True)
        assert (counts == 1).all(), (
            f'colours listed twice: {uniq[counts > 1].tolist()}')
        labels = np.concatenate([
            np.arange(len(colors)),
            np.full(len(ignore), ignore_index)
        ]).astype(np.uint8)
        self.ignore_index = ignore_index
        self.num_classes = len(colors)
        # Bits per channel for its distinct values 1..n (0 = not in palette).
        levels = [np.unique(known[:, c]) for c in range(3)]
        bits = [len(lv).bit_length() for lv in levels]
        self.fast = sum(bits) <= 8
        if self.fast:
            shifts = np.cumsum([0] + bits[:-1])
            self._luts = np.zeros((3, 256), np.uint8)
            for c in range(3):
                self._luts[c, levels[c]] = (np.arange(1, len(levels[c]) + 1)
                                            << shifts[c])
            codes = np.bitwise_or.reduce(
                [self._luts[c][known[:, c]] for c in range(3)])
            self._table = np.full(256, ignore_index, np.uint8)
            self._table[codes] = labels
            self._unknown = np.ones(256, np.uint8)
            self._unknown[codes] = 0
        else:
            packed = (known[:, 0] << 16) | (known[:, 1] << 8) | known[:, 2]
            order = np.argsort(packed)
            self._keys = packed[order].astype(np.uint32)
            self._values = labels[order]

    @property
    def nbytes(self) -> int:
        """Bytes held by the lookup tables."""
        if self.fast:
            return self._luts.nbytes + self._table.nbytes + \
                self._unknown.nbytes
        return self._keys.nbytes + self._values.nbytes

    def _lookup(self, rgb: Sequence[np.ndarray]):
        """Labels (H, W) uint8 and a mask of unknown colours (H, W) bool."""
        if self.fast:
            code = cv2.LUT(rgb[0], self._luts[0])
            cv2.bitwise_or(code, cv2.LUT(rgb[1], self._luts[1]), dst=code)
            cv2.bitwise_or(code, cv2.LUT(rgb[2], self._luts[2]), dst=code)
            return cv2.LUT(code, self._table), \
                lambda: cv2.LUT(code, self._unknown).view(bool)
        packed = (rgb[0].astype(np.uint32) << 16) | \
            (rgb[1].astype(np.uint32) << 8) | rgb[2]
        pos = np.searchsorted(self._keys, packed)
        pos[pos == len(self._keys)] = 0
        unknown = self._keys[pos] != packed
        labels = self._values[pos]
        labels[unknown] = self.ignore_index
        return labels, lambda: unknown

    def _decode(self, img: np.ndarray, channel_order: str, name: str):
        """Labels, the lazy unknown-colour mask and the (r, g, b) planes."""
        assert channel_order in ('rgb', 'bgr'), (
            f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f'{name}: a colour label must be (H, W, 3) uint8, got '
                f'{img.shape} {img.dtype}')
        chans = cv2.split(np.ascontiguousarray(img))
        if channel_order == 'bgr':
            chans = chans[::-1]
        labels, unknown = self._lookup(chans)
        return labels, unknown, chans

    def decode(self,
               img: np.ndarray,
               channel_order: str = 'rgb',
               strict: bool = False,
               name: str = '<array>') -> np.ndarray:
        """Class indices of a colour label image.

        Args:
            img (ndarray): shape (H, W, 3), uint8.
            channel_order (str): 'rgb' or 'bgr' (what OpenCV and mmcv
                return). Default: 'rgb'.
            strict (bool): Raise on colours that are neither in the palette
                nor ignored, instead of mapping them to ``ignore_index``.
            name (str): Shown in the error message (the file name).

        Returns:
            ndarray: shape (H, W), uint8.
        """
        if not strict:
            return self._decode(img, channel_order, name)[0]
        labels, problem = self.decode_report(img, channel_order, name)
        if problem:
            raise ValueError(problem)
        return labels

    def decode_report(self,
                      img: np.ndarray,
                      channel_order: str = 'rgb',
                      name: str = '<array>'):
        """Like :meth:`decode`, also returning a message that names the
        unknown colours (None when every colour is known)."""
        labels, unknown, chans = self._decode(img, channel_order, name)
        mask = unknown()
        problem = self._unknown_message(img, mask, chans, name) \
            if mask.any() else None
        return labels, problem

    @staticmethod
    def _unknown_message(img, mask, rgb, name, limit=10) -> str:
        colors = np.stack([c[mask] for c in rgb], axis=1)
        uniq, counts = np.unique(colors, axis=0, return_counts=True)
        order = np.argsort(-counts)[:limit]
        listed = ', '.join(f'{tuple(int(v) for v in uniq[i])} x{counts[i]}'
                           for i in order)
        more = f' and {len(uniq) - limit} more' if len(uniq) > limit else ''
        hint = ''
        if (uniq == uniq[:, :1]).all():
            hint = ('; r == g == b for all of them: class indices saved as '
                    'a grey RGB image? Save them as a single-channel PNG')
        return (f'{name}: {int(mask.sum())} pixels have colours not in the '
                f'palette (r, g, b) x pixels: {listed}{more}{hint}')


@TRANSFORMS.register_module()
class LoadColorAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that also reads colour-coded labels.

    A 3- or 4-channel label PNG is decoded to class indices with
    ``palette`` (alpha ignored); a single-channel one (mode P palette PNGs as
    VOC ships them, or mode L) is read as indices exactly as mmseg does.
    Either way the label must have the size of its image.

    Required Keys: seg_map_path, reduce_zero_label, seg_fields, and
    ori_shape when the image was loaded first (for the size check).
    Optional Keys: seg_palette (the dataset's colours, used when
    ``palette`` is None; ``CheckedVOCDataset`` sets it for classes of one's
    own).
    Added Keys: gt_seg_map (np.uint8).

    Args:
        palette (Sequence[Sequence[int]], optional): RGB colour of each
            class index. Default: the sample's ``seg_palette`` if the
            dataset gives one, else VOC's 21 colours.
        ignore_colors (Sequence[Sequence[int]]): Colours mapped to
            ``ignore_index``. Default: VOC's border colour (224, 224, 192).
        ignore_index (int): Label of ignored and unknown colours.
            Default: 255.
        strict (bool): Raise, naming the file and the colours, on colours
            outside ``palette`` and ``ignore_colors`` instead of mapping them
            to ``ignore_index``. Default: False: they are mapped, and a
            warning naming the file and the colours is logged the first
            time each file is loaded.
        **kwargs: ``LoadAnnotations`` arguments (``reduce_zero_label``,
            ``imdecode_backend``, ``backend_args``).
    """

    def __init__(self,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 ignore_colors: Sequence[Sequence[int]] = VOC_IGNORE_COLORS,
                 ignore_index: int = 255,
                 strict: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.palette = palette
        self.ignore_colors = ignore_colors
        self.decoder = PaletteDecoder(
            VOC_PALETTE if palette is None else palette, ignore_colors,
            ignore_index)
        self._dataset_decoders = {}  # seg_palette -> PaletteDecoder
        self.strict = strict
        # Label files already checked for unknown colours (in this process):
        # each is checked, and warned about, on its first load only.
        self._checked = set()

    def _decoder_for(self, results: dict) -> PaletteDecoder:
        """``palette``'s decoder, or one for the dataset's ``seg_palette``."""
        colors = results.get('seg_palette')
        if self.palette is not None or colors is None:
            return self.decoder
        key = tuple(tuple(int(v) for v in c) for c in colors)
        if key not in self._dataset_decoders:
            self._dataset_decoders[key] = PaletteDecoder(
                key, self.ignore_colors, self.decoder.ignore_index)
        return self._dataset_decoders[key]

    def _read_label(self, path: str,
                    decoder: PaletteDecoder) -> np.ndarray:
        """(H, W) uint8 class indices of the label file ``path``."""
        seg = read_image(path, 'unchanged', self.backend_args,
                         self.imdecode_backend)
        if seg.ndim == 3 and seg.shape[2] in (3, 4):
            # mmcv returns colour images in BGR(A) order.
            bgr = seg[..., :3]
            if self.strict or path in self._checked:
                return decoder.decode(bgr, 'bgr', self.strict, path)
            self._checked.add(path)
            labels, problem = decoder.decode_report(bgr, 'bgr', path)
            if problem:
                # Not silent: a wrong palette would otherwise ignore whole
                # classes and still report a perfect score.
                print_log(f'{problem}. They are mapped to '
                          f'{decoder.ignore_index} (ignored); set '
                          'strict=True to make this an error.',
                          logger='current', level=logging.WARNING)
            return labels
        seg = seg.squeeze()
        if seg.ndim != 2:
            raise ValueError(f'{path}: expected a single-channel index PNG '
                             f'or an RGB colour PNG, got shape {seg.shape}')
        return seg.astype(np.uint8)

    def _load_seg_map(self, results: dict) -> None:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``."""
        path = results['seg_map_path']
        seg = self._read_label(path, self._decoder_for(results))
        check_label_size(seg, results, path)
        # The rest as mmseg's LoadAnnotations._load_seg_map.
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        assert self.reduce_zero_label == results['reduce_zero_label'], (
            f'dataset has reduce_zero_label={results["reduce_zero_label"]} '
            f'but {type(self).__name__} {self.reduce_zero_label}')
        if self.reduce_zero_label:
            seg[seg == 0] = 255
            seg = seg - 1
            seg[seg == 254] = 255
        if results.get('label_map', None) is not None:
            orig = seg.copy()
            for old_id, new_id in results['label_map'].items():
                seg[orig == old_id] = new_id
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, '
                f'num_classes={self.decoder.num_classes}, '
                f'strict={self.strict})')
