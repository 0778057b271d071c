"""STAC items (Radiant Earth Foundation, SpatioTemporal Asset Catalog) as
dates: the assets picked by name or by common band name, stacked as band
files (``band_stack.py``), with the item's scene classification as the
date's nodata.

Only Sentinel-2 L2A's scene classification (``scl``/``SCL`` asset) is
read as a mask; its default classes masked are no data (0), saturated
(1), cloud shadow (3), cloud medium and high probability (8, 9) and
cirrus (10).
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

from .remote import is_remote

SCL_ASSETS = ('scl', 'SCL')
SCL_MASKED = (0, 1, 3, 8, 9, 10)


class StacDate(NamedTuple):
    """A date read from a STAC item: ``files`` (one per band, in the
    order asked), ``mask`` (classification file, classes masked) or
    None, ``bbox`` (west, south, east, north; WGS84)."""
    item: str
    files: List[str]
    mask: Optional[tuple]
    bbox: Sequence[float]

    def __str__(self) -> str:  # messages name the item
        return self.item


def _band_names(asset) -> List[str]:
    """The names and common names of an asset's bands (``eo:bands`` of
    STAC 1.0, ``bands`` of 1.1)."""
    names = []
    for band in (asset.extra_fields.get('eo:bands') or
                 asset.extra_fields.get('bands') or []):
        names += [band.get(k) for k in ('name', 'common_name',
                                        'eo:common_name') if band.get(k)]
    return names


def read_item(href: str):
    """A ``pystac.Item`` from a file or URL, with an error naming it."""
    import pystac
    try:
        return pystac.Item.from_file(href)
    except Exception as e:  # pystac raises many kinds: I/O, JSON, schema
        raise ValueError(f'cannot read the STAC item {href}: '
                         f'{str(e).splitlines()[0] if str(e) else e!r}'
                         ) from None


def stac_date(href: str, assets: Sequence[str],
              mask_classes: Optional[Sequence[int]] = SCL_MASKED
              ) -> StacDate:
    """The band files of ``assets`` (asset keys, band names or common
    names such as ``red``, ``nir``) of the item at ``href``, and its
    classification mask with ``mask_classes`` (None or empty: no mask).

    Raises:
        ValueError: naming the item and an asset it does not have (with
            those it has).
    """
    item = read_item(href)
    by_name: Dict[str, object] = {}
    for key, asset in item.assets.items():
        for name in [key] + _band_names(asset):
            by_name.setdefault(name.lower(), asset)
    files = []
    for name in assets:
        asset = item.assets.get(name) or by_name.get(name.lower())
        if asset is None:
            raise ValueError(
                f'{href}: no asset {name!r} (by key or band name); it has '
                f'{", ".join(sorted(item.assets))}')
        files.append(_absolute(asset.get_absolute_href(), href))
    mask = None
    scl = next((item.assets[k] for k in SCL_ASSETS if k in item.assets),
               None)
    if mask_classes and scl is not None:
        mask = (_absolute(scl.get_absolute_href(), href), list(mask_classes))
    return StacDate(href, files, mask, item.bbox)


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
              mask_classes: Optional[Sequence[int]] = SCL_MASKED) -> tuple:
    """Dates A and B (:class:`StacDate`, which ``infer_change_scene`` and
    ``open_raster`` take as dates) of two items whose footprints
    overlap."""
    a, b = (stac_date(h, assets, mask_classes) for h in (href_a, href_b))
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
