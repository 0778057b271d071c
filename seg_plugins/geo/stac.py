"""STAC items (Radiant Earth Foundation, SpatioTemporal Asset Catalog) as
dates: the assets picked by name or by common band name, stacked as band
files (``band_stack.py``), read as reflectance with the item's scale and
offset when asked, with the item's cloud classification as the date's
nodata.

Two classifications are read as masks, chosen by name (or by code):

- Sentinel-2 L2A's scene classification (``scl`` asset), whose classes
  are codes: no data 0, saturated 1, dark 2, cloud shadow 3, vegetation
  4, bare 5, water 6, unclassified 7, cloud medium and high probability
  8 and 9, cirrus 10, snow 11;
- Landsat Collection 2's ``qa_pixel``, whose bits are codes: fill 0,
  dilated cloud 1, cirrus 2, cloud 3, cloud shadow 4, snow 5, water 7
  (USGS, Landsat 8-9 Collection 2 Level-2 Science Product Guide).

The default masks no data, saturated pixels, clouds (dilated too), their
shadows and cirrus: SCL classes 0, 1, 3, 8, 9, 10; QA_PIXEL bits 0-4.
"""
import json
import os
import os.path as osp
import time
import urllib.error
import urllib.request
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from .remote import REMOTE_CONFIG, is_remote, read_error

SCL_ASSETS = ('scl', 'SCL')
SCL_MASKED = (0, 1, 3, 8, 9, 10)
QA_ASSETS = ('qa_pixel', 'QA_PIXEL')
# Names of the classes (SCL) and bits (QA_PIXEL) that --mask-classes takes.
SCL_NAMES = dict(nodata=(0, ), fill=(0, ), saturated=(1, ), dark=(2, ),
                 cloud_shadow=(3, ), vegetation=(4, ), bare=(5, ),
                 water=(6, ), unclassified=(7, ), cloud_medium=(8, ),
                 cloud_high=(9, ), cloud=(8, 9), cirrus=(10, ), snow=(11, ))
QA_NAMES = dict(nodata=(0, ), fill=(0, ), dilated_cloud=(1, ), cirrus=(2, ),
                cloud=(3, ), cloud_shadow=(4, ), snow=(5, ), water=(7, ))
DEFAULT_MASK = ('nodata', 'saturated', 'cloud_shadow', 'cloud', 'cirrus',
                'dilated_cloud')
# Where they are: asset keys, whether codes are bits, names.
CLASSIFICATIONS = (('SCL', SCL_ASSETS, False, SCL_NAMES),
                   ('QA_PIXEL', QA_ASSETS, True, QA_NAMES))

MaskSpec = Optional[Sequence[Union[int, str]]]


class ClassMask(NamedTuple):
    """A date's mask from a classification: ``file`` (band 1), ``codes``
    masked (classes, or bit numbers with ``bits``)."""
    file: str
    codes: Tuple[int, ...]
    bits: bool = False

    def describe(self) -> str:
        """``classes 0,1,3`` or ``bits 1,3``."""
        return (f'{"bits" if self.bits else "classes"} '
                f'{",".join(map(str, self.codes))}')


class StacDate(NamedTuple):
    """A date read from a STAC item: ``files`` (one per band, in the
    order asked), ``mask`` (:class:`ClassMask`) or None, ``bbox`` (west,
    south, east, north; WGS84), ``scales`` (per file, per band: scale,
    offset) or None when read as stored."""
    item: str
    files: List[str]
    mask: Optional[ClassMask]
    bbox: Sequence[float]
    scales: Optional[List[List[Tuple[float, float]]]] = None

    def __str__(self) -> str:  # messages name the item
        return self.item


def parse_mask_classes(text: Optional[str]) -> MaskSpec:
    """``--mask-classes``: ``none`` -> None (no mask), ``default`` or
    None -> :data:`DEFAULT_MASK`, else the comma-separated names and
    codes (digits as ints)."""
    if text is None or text == 'default':
        return DEFAULT_MASK
    if text == 'none':
        return None
    return [int(c) if c.strip().isdigit() else c.strip()
            for c in text.split(',') if c.strip()]


def mask_codes(classes: Sequence[Union[int, str]], names: Dict[str, tuple]
               ) -> Tuple[int, ...]:
    """The codes of ``classes`` (names or codes) in a classification with
    ``names``; a name of the other classification only is skipped.

    Raises:
        ValueError: a name neither classification has.
    """
    known = set(SCL_NAMES) | set(QA_NAMES)
    codes = set()
    for name in classes:
        if isinstance(name, int):
            codes.add(name)
        elif name.lower() not in known:
            raise ValueError(f'--mask-classes: unknown class {name!r} '
                             f'(known: {", ".join(sorted(known))}, or '
                             'codes)')
        else:
            codes.update(names.get(name.lower(), ()))
    return tuple(sorted(codes))


def _band_names(asset) -> List[str]:
    """The names and common names of an asset's bands (``eo:bands`` of
    STAC 1.0, ``bands`` of 1.1)."""
    names = []
    for band in (asset.extra_fields.get('eo:bands') or
                 asset.extra_fields.get('bands') or []):
        names += [band.get(k) for k in ('name', 'common_name',
                                        'eo:common_name') if band.get(k)]
    return names


def asset_scales(asset) -> List[Tuple[float, float]]:
    """(scale, offset) of each band the asset describes (raster
    extension: ``raster:bands`` of STAC 1.0, ``raster:scale`` /
    ``raster:offset`` in ``bands`` or on the asset in 1.1); the
    extension's defaults (1, 0) where not given."""
    fields = asset.extra_fields
    bands = fields.get('raster:bands')
    if bands:
        return [(float(b.get('scale', 1.0)), float(b.get('offset', 0.0)))
                for b in bands]
    top = (float(fields.get('raster:scale', 1.0)),
           float(fields.get('raster:offset', 0.0)))
    return [(float(b.get('raster:scale', top[0])),
             float(b.get('raster:offset', top[1])))
            for b in fields.get('bands') or [{}]]


def _setting(name: str) -> float:
    return float(os.environ.get(name, REMOTE_CONFIG[name]))


def _fetch(url: str) -> str:
    """The text at ``url``, under ``remote.py``'s timeout and retries
    (5xx, 429 and timeouts, the delay doubling).

    Raises:
        ValueError: naming the URL and the HTTP status, or the timeout.
    """
    retries, delay = (int(_setting('GDAL_HTTP_MAX_RETRY')),
                      _setting('GDAL_HTTP_RETRY_DELAY'))
    timeout = _setting('GDAL_HTTP_TIMEOUT')
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as f:
                return f.read().decode()
        except urllib.error.HTTPError as e:
            error = OSError(f'HTTP response code: {e.code}')
            transient = e.code >= 500 or e.code == 429
        except (urllib.error.URLError, TimeoutError) as e:
            reason = getattr(e, 'reason', e)
            transient = isinstance(reason, TimeoutError)
            error = OSError(f'Operation timed out after {timeout:g} s'
                            if transient else str(reason))
        if not transient or attempt == retries:
            raise ValueError(read_error(url, error))
        time.sleep(delay * 2**attempt)


def read_item(href: str):
    """A ``pystac.Item`` from a file or an ``http(s)://`` URL, with an
    error naming it (and the HTTP status, or the timeout).

    Raises:
        ValueError: the item cannot be read or is not a STAC item.
    """
    import pystac
    remote = href.lower().startswith(('http://', 'https://'))
    text = _fetch(href) if remote else None
    try:
        if remote:
            return pystac.Item.from_dict(json.loads(text), href=href)
        return pystac.Item.from_file(href)
    except Exception as e:  # pystac raises many kinds: I/O, JSON, schema
        raise ValueError(f'cannot read the STAC item {href}: '
                         f'{str(e).splitlines()[0] if str(e) else e!r}'
                         ) from None


def item_mask(item, href: str, classes: MaskSpec) -> Optional[ClassMask]:
    """The mask of ``classes`` from the item's classification (SCL or
    QA_PIXEL), None without either or with no ``classes``."""
    if not classes:
        return None
    for _, keys, bits, names in CLASSIFICATIONS:
        asset = next((item.assets[k] for k in keys if k in item.assets),
                     None)
        if asset is not None:
            codes = mask_codes(classes, names)
            return codes and ClassMask(
                _absolute(asset.get_absolute_href(), href), codes, bits)
    return None


def stac_date(href: str, assets: Sequence[str],
              mask_classes: MaskSpec = DEFAULT_MASK,
              scale: bool = False) -> StacDate:
    """The band files of ``assets`` (asset keys, band names or common
    names such as ``red``, ``nir``) of the item at ``href``, its
    classification's mask of ``mask_classes`` (names or codes; None or
    empty: no mask), and with ``scale`` each band's scale and offset.

    Raises:
        ValueError: naming the item and an asset it does not have (with
            those it has), or an unknown class name.
    """
    item = read_item(href)
    by_name: Dict[str, object] = {}
    for key, asset in item.assets.items():
        for name in [key] + _band_names(asset):
            by_name.setdefault(name.lower(), asset)
    files, scales = [], []
    for name in assets:
        asset = item.assets.get(name) or by_name.get(name.lower())
        if asset is None:
            raise ValueError(
                f'{href}: no asset {name!r} (by key or band name); it has '
                f'{", ".join(sorted(item.assets))}')
        files.append(_absolute(asset.get_absolute_href(), href))
        scales.append(asset_scales(asset))
    return StacDate(href, files, item_mask(item, href, mask_classes) or None,
                    item.bbox, scales if scale else None)


def expects_reflectance(cfg) -> bool:
    """Whether the model's config says it takes reflectance
    (``input_units = 'reflectance'``, a top-level key) rather than values
    as stored (``'stored'``, the default): STAC items' scale and offset
    are then applied.

    Raises:
        ValueError: any other ``input_units``.
    """
    units = cfg.get('input_units', 'stored')
    if units not in ('stored', 'reflectance'):
        raise ValueError(f"config input_units = {units!r}: expected "
                         "'stored' or 'reflectance'")
    return units == 'reflectance'


def describe_scales(date: StacDate) -> str:
    """``v * 0.0001 - 0.1`` (one rule for every band) or each file's."""
    rules = [f'v * {s:g} {"-" if o < 0 else "+"} {abs(o):g}'
             for per in date.scales or [] for s, o in per]
    return rules[0] if len(set(rules)) == 1 else '; '.join(
        f'{f}: {r}' for f, r in zip(date.files, rules))


def _absolute(asset_href: str, item_href: str) -> str:
    """An asset's href as GDAL opens it: absolute, relative ones against
    the item's folder."""
    if is_remote(asset_href) or osp.isabs(asset_href):
        return asset_href
    return osp.join(osp.dirname(item_href), asset_href)


def check_overlap(a: StacDate, b: StacDate) -> None:
    """Raise ValueError naming both items when their footprints (bboxes)
    are disjoint; items without one are not checked."""
    if not a.bbox or not b.bbox:
        return
    aw, as_, ae, an = a.bbox[:4]
    bw, bs, be, bn = b.bbox[:4]
    if aw >= be or bw >= ae or as_ >= bn or bs >= an:
        raise ValueError(f'the footprints of {a.item} ({a.bbox}) and '
                         f'{b.item} ({b.bbox}) do not overlap')


def stac_pair(href_a: str, href_b: str, assets: Sequence[str],
              mask_classes: MaskSpec = DEFAULT_MASK,
              scale: bool = False) -> tuple:
    """Dates A and B (:class:`StacDate`, which ``infer_change_scene`` and
    ``open_raster`` take as dates) of two items whose footprints
    overlap."""
    a, b = (stac_date(h, assets, mask_classes, scale)
            for h in (href_a, href_b))
    check_overlap(a, b)
    return a, b


def masked_share(date: StacDate, side: int = 512) -> float:
    """The share of the date masked by its classification, read at most
    ``side`` pixels across (from the overviews where there are)."""
    import rasterio

    from .grid import open_raster
    from .remote import remote_config
    with rasterio.Env(**remote_config()), open_raster(date) as src:
        scale = max(src.width, src.height) / side
        shape = (max(1, round(src.height / max(scale, 1))),
                 max(1, round(src.width / max(scale, 1))))
        return float((src.dataset_mask(out_shape=shape) == 0).mean())
