"""Change detection on georeferenced scene pairs of any size, streamed.

The tiling is :func:`infer_change`'s (same windows, same cores, same
batches: ``geo/tiling.py``), so on a pair without nodata the change map is
the same pixel for pixel. What differs is where pixels come from and go:
:class:`~seg_plugins.apis.scene_pipeline.ScenePipeline` streams them from
and to GeoTIFFs with rasterio, never holding an array of the scene's size,
and publishes Cloud-Optimised GeoTIFFs on A's grid once complete; a killed
run can be resumed (``scene_progress.py``).

Like mmseg's ``RSInferencer`` (read, infer and write threads joined by
queues), but for pairs, with nodata, COG outputs and bounded GDAL caches,
and without a system GDAL.
"""
import time
import warnings
from typing import Callable, Optional, Sequence

import numpy as np
import rasterio
from torch import nn

from ..geo.band_stack import date_files
from ..geo.cog import check_outputs
from ..geo.radiometry import RadiometricNormalizer, check_method, scene_stats
from ..geo.raster_pair import RasterPair
from ..geo.remote import remote_config
from ..utils.cpu_turns import model_takes_every_core
from ..utils.precision import model_precision, set_precision
from .scd_scene import class_paths, polygon_classes, scd_class_table
from .scene_pipeline import (
    ScenePipeline,
    SceneStopped,  # noqa: F401  (what it raises)
)
from .scene_progress import SceneProgress, run_key
from .scene_result import SceneResult


def model_in_channels(model: nn.Module) -> Optional[int]:
    """Input channels per image that the model's config declares
    (``model.backbone.in_channels``), or None when it does not say."""
    try:
        return int(model.cfg.model.backbone.in_channels)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def warn_units(pair: RasterPair, model: nn.Module) -> None:
    """Warn when a date's integer type and the config's preprocessor mean
    disagree on the values' units: nothing is rescaled, so uint16 digital
    numbers given to a model normalised for 0-255 (or bytes to one made
    for thousands) run without error and give nonsense."""
    try:
        top = max(float(v) for v in model.cfg.model.data_preprocessor.mean)
    except (AttributeError, KeyError, TypeError, ValueError):
        return
    for path, dtype in zip(pair.paths, pair.dtypes):
        dtype = np.dtype(dtype)
        if dtype.kind in 'ui' and (dtype.itemsize == 1) != (top <= 255):
            warnings.warn(
                f'{path} holds {dtype} values but the config\'s '
                f'data_preprocessor mean (up to {top:g}) is for '
                f'{"0-255" if top <= 255 else "larger"} values: they are '
                'not rescaled, so the results will not mean much; use a '
                'config made for this imagery (README: Bands and values)',
                stacklevel=3)


def model_mean_std(model: nn.Module, channels: int):
    """The preprocessor's per-image mean and std (C, ) in the loader's
    channel order (reversed for 3 bands it converts to RGB), or (None,
    None) when it has none: the target of 'standardize'."""
    pre = getattr(model, 'data_preprocessor', None)
    mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
    if mean is None or std is None or mean.numel() < channels:
        return None, None
    mean, std = (v.detach().cpu().reshape(-1)[:channels].double().numpy()
                 for v in (mean, std))
    if channels == 3 and getattr(pre, 'swap_channels', False):
        mean, std = mean[::-1], std[::-1]
    return mean, std


def scene_normalizer(model: nn.Module, pair: RasterPair,
                     method: str) -> RadiometricNormalizer:
    """``method``'s normalisation with the statistics of the whole scene
    (``geo/radiometry.py``), computed once, so that every tile gets the
    same mapping."""
    if check_method(method) == 'none':
        return RadiometricNormalizer('none')
    mean, std = model_mean_std(model, pair.channels)
    return RadiometricNormalizer(method, scene_stats(pair), mean, std)


def infer_change_scene(model: nn.Module,
                       path_a: str,
                       path_b: str,
                       out: str,
                       prob_out: Optional[str] = None,
                       tile: int = 256,
                       overlap: int = 32,
                       batch_size: int = 4,
                       bands: Optional[Sequence[int]] = None,
                       align: bool = False,
                       overwrite: bool = False,
                       polygons: Optional[str] = None,
                       min_area: float = 0.0,
                       gdal_cache_mb: int = 16,
                       progress: Optional[Callable[[int], None]] = None,
                       take_turns: Optional[bool] = None,
                       resume: bool = False,
                       checkpoint_seconds: Optional[float] = 60.0,
                       on_start: Optional[Callable[[int, int], None]] = None,
                       should_stop: Optional[Callable[[], bool]] = None,
                       radiometric: str = 'none',
                       precision: Optional[str] = None) -> SceneResult:
    """Change map of a scene pair, streamed from and to GeoTIFFs.

    Args:
        model (nn.Module): From :func:`init_change_model`; its config's
            ``model.backbone.in_channels`` must equal the bands read.
        path_a (str | Sequence[str]): Date A: any GDAL-readable raster,
            local or remote (``geo/remote.py``: ``https://``, ``s3://``,
            ``gs://``, ``/vsi*/``), or several single-band files stacked
            (``geo/band_stack.py``); its grid and CRS are the outputs'.
        path_b (str): Date B, on A's grid unless ``align``.
        out (str): Change map COG: uint8 1 changed, 0 unchanged, 255
            (nodata) where either date is nodata. With a semantic change
            model also ``<stem>_from<ext>`` and ``<stem>_to<ext>``, the
            from-class and to-class COGs (0 no change, 1.. the classes,
            255 nodata; a colour table and a ``CLASS_NAMES`` tag), and
            ``<stem>_areas.csv``, the pixels and m^2 of each from-to pair
            (``scd_scene.py``).
        prob_out (str, optional): Change probability COG, uint8 0-255
            (p * 255), with an internal mask where either date is nodata.
        tile (int): Tile side; memory grows with it, not with the scene.
        overlap (int): Pixels shared by neighbouring tiles.
        batch_size (int): Tiles per forward pass.
        bands (Sequence[int], optional): 1-based bands read from both dates.
        align (bool): Resample B onto A's grid (bilinear).
        overwrite (bool): Replace existing outputs; otherwise they are
            refused before any work.
        polygons (str, optional): ``.gpkg`` or ``.geojson`` of the change
            regions (see :func:`seg_plugins.geo.polygons.write_polygons`);
            with a semantic change model, the regions of each from-to
            pair, with ``from`` and ``to`` class fields.
        min_area (float): Smallest region kept in ``polygons``, in m^2 on
            the ground (pixels without a CRS).
        gdal_cache_mb (int): GDAL block cache (``GDAL_CACHEMAX``) per run.
            Small on purpose: the reader keeps its own rows of blocks,
            and a cache that is full at every scene size keeps peak
            memory the same whatever the scene's size (a larger one reads
            no faster).
        progress (Callable[[int], None], optional): Called with the number
            of tiles finished since its last call.
        take_turns (bool, optional): Read and write only between forward
            passes, the two dates at once, instead of beside them
            (``utils/cpu_turns.py``). Default: when the model's threads
            take every core (on the CPU), where reading beside a forward
            pass slows it by more than the reading's own time.
        resume (bool): Continue the run that an interrupted one left in
            ``<out>.partial*`` when its settings, inputs and model were
            these (``scene_progress.py``); otherwise (warned, unless it
            left nothing) start over. The result is the same either way.
        checkpoint_seconds (float, optional): How often the partial
            outputs are synced to disk and the progress saved: at most
            what a killed run loses. None: never (nothing to resume).
        on_start (Callable[[int, int], None], optional): Called once
            before the first tile with the scene's tiles and the tiles
            that the interrupted run resumed had done.
        should_stop (Callable[[], bool], optional): Asked before each
            tile is taken for the model; once it returns True the run
            stops, writes the tiles the model has finished, saves its
            progress (even with ``checkpoint_seconds`` None) and raises
            :class:`SceneStopped`: a graceful stop on SIGTERM loses
            nothing (``tools/infer.py``). Not asked while the COGs are
            published.
        radiometric (str): Relative radiometric normalisation of the
            dates before the model (``geo/radiometry.py``): 'none',
            'standardize' (each date onto the preprocessor's mean/std by
            its own statistics) or 'match' (B's histograms onto A's).
            Statistics of the whole scene, computed once; the change COG
            records the method in its ``RADIOMETRIC`` tag.
        precision (str, optional): 'fp32', 'bf16', 'fp16' or 'auto' for a
            PyTorch model (``utils/precision.py``); None keeps the one it
            was built with (:func:`init_change_model`'s ``precision``).

    Returns:
        ~seg_plugins.apis.scene_result.SceneResult: The outputs' paths,
        the scene's size, its valid and changed pixels and their ground
        area, the tiles run, skipped and resumed, the polygons written and
        where the time went; readable by key too
        (``result['changed_pixels']``).

    Raises:
        ValueError: unreadable input, grids that differ without
            ``align``, a band count the model does not take, an output
            that is an input or another output, an unknown
            ``radiometric``, or a normalisation asked for on dates that
            share no valid pixel.
        FileExistsError: an output exists and ``overwrite`` is False.
        ~seg_plugins.apis.scene_pipeline.SceneStopped: ``should_stop``
            returned True; resume to go on.
    """
    assert 0 <= overlap < tile, f'need 0 <= overlap < tile, got {overlap}'
    check_method(radiometric)
    if precision is not None:
        set_precision(model, precision)
    start = time.perf_counter()
    classes = (class_paths(out) if scd_class_table(model) is not None
               else ())
    check_outputs((out, prob_out, polygons) + classes, overwrite,
                  (path_a, path_b))
    files = date_files(path_a) + date_files(path_b)
    # rasterio hands an int GDAL_CACHEMAX to GDAL as bytes.
    env = dict(remote_config(*files), GDAL_CACHEMAX=gdal_cache_mb << 20)
    with rasterio.Env(**env), RasterPair(path_a, path_b, bands,
                                         align) as pair:
        pair.check_channels(model_in_channels(model),
                            'the config (model.backbone.in_channels)')
        warn_units(pair, model)
        norm = scene_normalizer(model, pair, radiometric)
        record = SceneProgress(out, run_key(
            model, path_a, path_b, bands=[int(b) for b in pair.bands],
            align=align, tile=tile, overlap=overlap, batch_size=batch_size,
            prob=bool(prob_out), radiometric=radiometric,
            precision=model_precision(model)))
        pipeline = ScenePipeline(
            model, pair, out, prob_out, record, norm, tile=tile,
            overlap=overlap, batch_size=batch_size, env=env,
            take_turns=(model_takes_every_core(model)
                        if take_turns is None else take_turns),
            resume=resume, checkpoint_seconds=checkpoint_seconds)
        result = pipeline.run(progress, on_start, should_stop)
    if polygons:
        from ..geo.polygons import write_polygons
        with rasterio.Env(**env):
            result.regions = write_polygons(
                out, polygons, min_area,
                classes=polygon_classes(model, out))
        result.polygons = str(polygons)
    result.seconds = time.perf_counter() - start
    return result
