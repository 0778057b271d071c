"""Change detection on georeferenced scene pairs of any size, streamed.

The tiling is :func:`infer_change`'s (same windows, same cores, same
batches), so on a pair without nodata the change map is the same pixel for
pixel. What differs is where pixels come from and go: a reader thread reads
the windows of both dates with rasterio, from whole rows of blocks of one
band of tiles at a time (``geo/block_rows.py``), prefetching the next batch
while the model runs; a writer thread writes each row of tile cores into
the outputs' raw partial files; no array of the scene's size is ever
held. Outputs are
Cloud-Optimised GeoTIFFs on A's grid, published under their final names
only once complete (``geo/cog.py``). Where the model's threads take every
CPU core, reading and writing take turns with its forward passes instead
of running beside them (``utils/cpu_turns.py``). Every
``checkpoint_seconds`` the partial outputs are synced and the progress
saved, so that a killed run can be resumed (``scene_progress.py``).

Like mmseg's ``RSInferencer`` (read, infer and write threads joined by
queues), but for pairs, with nodata, COG outputs and bounded GDAL caches,
and without a system GDAL.
"""
import itertools
import os.path as osp
import queue
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Callable, List, Optional, Sequence

import numpy as np
import rasterio
from torch import nn

from ..geo.cog import COGWriter, check_outputs, not_resumable
from ..geo.ground_area import GroundArea, ground_area
from ..geo.radiometry import RadiometricNormalizer, check_method, scene_stats
from ..geo.raster_pair import RasterPair
from ..geo.remote import remote_config
from ..utils.cpu_turns import CPUTurns, model_takes_every_core
from ..utils.precision import model_precision, set_precision
from ..utils.preemption import Preempted
from .change_inference import (
    BAND_TILES,
    _core,
    _shift,
    axis_windows,
    model_input,
    predict_tiles,
    tile_windows,
)
from .scene_progress import COUNTS, SceneProgress, run_key

NODATA = 255  # of the change map
_END = object()


class SceneStopped(Preempted):
    """A scene run stopped when asked (``should_stop``), its progress
    saved to resume. A ``SystemExit`` with training's exit code
    (``EXIT_PREEMPTED``, 75): a script that does not catch it exits so,
    without a traceback.

    Attributes:
        out (str): The change map's final path (``<out>.partial*`` hold
            the progress).
        done (int): Tiles saved, in ``tile_windows``' order.
        tiles (int): Tiles of the scene.
    """

    def __init__(self, out: str, done: int, tiles: int):
        super().__init__()
        self.out, self.done, self.tiles = str(out), done, tiles


class _StopAsked(Exception):
    """``should_stop`` said so: unwind the pipeline, then save."""


class _Failed:
    """An exception raised in a worker thread, to re-raise in the caller."""

    def __init__(self, error: BaseException):
        self.error = error


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


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """``q.put`` that gives up once ``stop`` is set (the consumer died)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            pass
    return False


def _worker(target, stop: threading.Event, out_q: Optional[queue.Queue],
            errors: List, env: dict, cpu: Optional[dict] = None,
            name: str = '') -> threading.Thread:
    """Run ``target()`` in a daemon thread under its own GDAL options;
    an exception is kept in ``errors`` (and sent down ``out_q``). The
    thread's CPU seconds go to ``cpu[name]``."""

    def run():
        start = time.thread_time()
        try:
            with rasterio.Env(**env):
                target()
        except BaseException as e:  # re-raised by the caller
            errors.append(e)
            stop.set()
            if out_q is not None:
                out_q.put(_Failed(e))
        finally:
            if cpu is not None:
                cpu[name] = time.thread_time() - start
            if out_q is not None:
                _put(out_q, _END, threading.Event())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _commit(writers: Sequence[COGWriter]) -> None:
    """Publish every output, one after the other (each COG copy takes
    every core): GDAL writing two datasets in two threads shares its block
    cache between them (``geo/cog.py``). Every raw file and the progress
    record stay until all the COGs are written and under their names: a
    run killed before then resumes from its record, whichever output it
    had published (it needs the raw files of all of them). The change map
    is cleaned last: that removes the record."""
    for writer in reversed(writers):
        writer.publish()
    for writer in reversed(writers):
        writer.replace()
    for writer in reversed(writers):
        writer.clean()


class _TimedPool(ThreadPoolExecutor):
    """Threads that add their tasks' CPU time to ``cpu_seconds``."""

    def __init__(self, workers: int):
        super().__init__(workers)
        self.cpu_seconds = 0.0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):

        def timed():
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.cpu_seconds += time.thread_time() - start

        return super().submit(timed)


def _row_chunks(windows, size: int):
    """Consecutive (index, window) of one row of tiles, ``size`` at most
    per chunk."""
    chunk = []
    for item in windows:
        if chunk and (item[1][0] != chunk[0][1][0] or len(chunk) == size):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


class _Prefix:
    """The longest run of tiles written, in ``tile_windows``' order, from
    the first (the model finishes tiles out of order with the nodata
    ones), and the counts of those tiles (``scene_progress.COUNTS``)."""

    def __init__(self, done: int = 0, counts: Optional[dict] = None):
        self.done = done
        self.counts = dict(counts or dict.fromkeys(COUNTS, 0))
        self._ahead = {}  # index -> counts, of tiles written past it

    def finish(self, index: int, counts: dict) -> None:
        self._ahead[index] = counts
        while self.done in self._ahead:
            for k, v in self._ahead.pop(self.done).items():
                self.counts[k] += v
            self.done += 1


def _read_tiles(pair: RasterPair, windows, out_q: queue.Queue,
                write_q: queue.Queue, stop: threading.Event, stats: dict,
                turns: CPUTurns, cpu: dict,
                norm: RadiometricNormalizer,
                chunk: int = BAND_TILES) -> None:
    """Read the tiles of one row of a band (``tile_windows``' order) as one
    window and hand them out one by one: one window per row of a band
    keeps the pair's rows of blocks for the next row (see
    ``RasterPair.read``), and a wide window is cheaper to cut out than
    overlapping tiles.

    A tile whose core is nodata throughout goes straight to the writer,
    not to the model's queue, which then holds tiles to run only: the
    reader stays ahead of the model across nodata, and the model's thread
    does nothing per tile but run it (``tools/analysis/benchmark_scene.py``
    prints the scene run's time besides the model as ``side``).

    Taking turns, the two dates are read at once, between forward passes;
    the CPU time of those reads goes to ``cpu['read_dates']``. Each window
    read is normalised with the scene's ``norm``.
    """
    with _TimedPool(2) if turns.enabled else nullcontext() as pool:
        try:
            for tiles in _row_chunks(windows, chunk):
                rows = tiles[0][1][0]
                cols = slice(tiles[0][1][1].start, tiles[-1][1][1].stop)
                with turns.side():
                    img_a, img_b, valid = pair.read(rows, cols, pool)
                    img_a, img_b = norm.apply(img_a, img_b, valid)
                if not _hand_out(tiles, cols, img_a, img_b, valid, out_q,
                                 write_q, stop, stats):
                    return
        finally:
            if pool is not None:
                cpu['read_dates'] = pool.cpu_seconds


def _hand_out(tiles, cols: slice, img_a, img_b, valid, out_q: queue.Queue,
              write_q: queue.Queue, stop: threading.Event,
              stats: dict) -> bool:
    """Queue the (index, window) tiles of one read window: to the writer
    those whose core is nodata throughout, to the model the others. False
    once ``stop`` is set."""
    for index, window in tiles:
        c = _shift(window[1], cols.start)
        # Copies: a queued tile then holds its own pixels, not the
        # row's, so memory is the queues' tiles, however sparse.
        tile_valid = valid[:, c].copy()
        if not tile_valid[_core(window)].any():
            if not _put(write_q, (index, window, None, None, tile_valid),
                        stop):
                return False
            stats['tiles_skipped'] += 1
        elif not _put(out_q, (index, window,
                              model_input((img_a[:, c], img_b[:, c])),
                              tile_valid), stop):
            return False
    return True


def _save_progress(writers: Sequence[COGWriter], record: SceneProgress,
                   prefix: '_Prefix', turns: Optional[CPUTurns] = None
                   ) -> bool:
    """Hand the outputs written so far to the OS and save the progress in
    the background, once it is on disk; False, and nothing saved, while
    the last save still runs (``SceneProgress.save_when_synced``)."""
    with turns.side() if turns is not None else nullcontext():
        for writer in writers:
            writer.sync()
    return record.save_when_synced([f for w in writers for f in w.files],
                                   prefix.done, prefix.counts)


def _write_tiles(writers: Sequence[COGWriter], in_q: queue.Queue,
                 stop: threading.Event, prefix: _Prefix,
                 turns: CPUTurns, record: SceneProgress,
                 every: Optional[float],
                 areas: Optional[GroundArea]) -> None:
    """Write each tile's core, nodata where either date is, and count its
    valid and changed pixels and the changed ones' ground area (``areas``
    at the core's centre; here, not between the model's batches).
    Items are (index, window, change, prob, valid) of the whole tile;
    change and prob are None for a tile that was not run. Every ``every``
    seconds the outputs are synced and the progress saved (``every``
    None: never)."""
    saved, last = prefix.done, time.monotonic()

    def checkpoint():
        nonlocal saved, last
        if _save_progress(writers, record, prefix, turns):
            saved = prefix.done
        last = time.monotonic()

    while True:
        try:
            item = in_q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return
            continue
        if item is _END or stop.is_set():
            return
        index, window, change, prob, valid = item
        ran = change is not None
        core = _core(window)
        valid = valid[core]
        if not ran:
            change = np.full(valid.shape, NODATA, np.uint8)
            prob = np.zeros(valid.shape, np.uint8)
        else:
            change, prob = change[core], prob[core]
            invalid = ~valid
            change[invalid] = NODATA
            prob[invalid] = 0
        core_r, core_c = window[2:]
        with turns.side():
            writers[0].write(core_r, core_c, change)
            if len(writers) > 1:
                writers[1].write(core_r, core_c, prob, valid)
        changed = int(np.count_nonzero(change == 1))
        m2 = 0.0
        if changed and areas is not None:
            m2 = changed * areas.pixel((core_r.start + core_r.stop) / 2,
                                       (core_c.start + core_c.stop) / 2)
        prefix.finish(index, dict(
            valid_pixels=int(np.count_nonzero(valid)),
            changed_pixels=changed, tiles_run=int(ran),
            tiles_skipped=int(not ran), changed_m2=m2))
        if (every is not None and prefix.done > saved
                and time.monotonic() - last >= every):
            checkpoint()


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
                       precision: Optional[str] = None) -> dict:
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
            (nodata) where either date is nodata.
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
            regions (see :func:`seg_plugins.geo.polygons.write_polygons`).
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
        dict: ``change``, ``prob``, ``polygons`` (paths or None),
        ``height``, ``width``, ``valid_pixels``, ``changed_pixels``,
        ``changed_percent`` (of valid pixels), ``crs`` (A's, as a string,
        or None), ``pixel_area_m2`` (at the
        scene's centre) and ``changed_area_m2``, on the ground
        (``geo/ground_area.py``; None without a CRS),
        ``georeferenced``, ``tiles_run``, ``tiles_skipped`` (nodata
        throughout, not run), ``tiles_resumed`` (done by the interrupted
        run resumed; the counts above are the whole scene's, those tiles
        included), ``regions`` (polygons written),
        ``seconds``, and where they went besides the model:
        ``read_cpu_seconds`` and ``write_cpu_seconds`` (CPU time of the
        reader, with its reads of the two dates, and of the writer:
        beside the model, or between its forward passes) and
        ``commit_seconds`` (publishing the COGs, after it);
        ``took_turns`` (see ``take_turns``); ``radiometric``;
        ``precision`` (the network's: 'fp32', 'bf16' or 'fp16').

    Raises:
        ValueError: unreadable input, grids that differ without
            ``align``, a band count the model does not take, an output
            that is an input or another output, an unknown
            ``radiometric``, or a normalisation asked for on dates that
            share no valid pixel.
        FileExistsError: an output exists and ``overwrite`` is False.
        SceneStopped: ``should_stop`` returned True; resume to go on.
    """
    assert 0 <= overlap < tile, f'need 0 <= overlap < tile, got {overlap}'
    check_method(radiometric)
    if precision is not None:
        set_precision(model, precision)
    precision = model_precision(model)
    start = time.perf_counter()
    check_outputs((out, prob_out, polygons), overwrite, (path_a, path_b))
    env = dict(remote_config(), GDAL_CACHEMAX=gdal_cache_mb)
    with rasterio.Env(**env), RasterPair(path_a, path_b, bands,
                                         align) as pair:
        pair.check_channels(model_in_channels(model),
                            'the config (model.backbone.in_channels)')
        warn_units(pair, model)
        norm = scene_normalizer(model, pair, radiometric)
        if take_turns is None:
            take_turns = model_takes_every_core(model)
        record = SceneProgress(out, run_key(
            model, path_a, path_b, bands=[int(b) for b in pair.bands],
            align=align, tile=tile, overlap=overlap, batch_size=batch_size,
            prob=bool(prob_out), radiometric=radiometric,
            precision=precision))
        done, counts = (_resumable(record, pair.grid, out, prob_out)
                        if resume else (0, None))
        areas = ground_area(pair.grid)
        stats = _run(model, pair, out, prob_out, tile, overlap, batch_size,
                     env, progress, CPUTurns(take_turns), record, done,
                     counts, checkpoint_seconds, on_start, areas,
                     should_stop, norm)
    changed_m2 = stats.pop('changed_m2')
    summary = dict(
        change=str(out), prob=prob_out and str(prob_out), polygons=None,
        height=pair.height, width=pair.width,
        pixel_area_m2=None if areas is None else areas.pixel(
            pair.height / 2, pair.width / 2),
        changed_area_m2=None if areas is None else changed_m2,
        georeferenced=pair.grid.crs is not None,
        crs=pair.grid.crs and pair.grid.crs.to_string(), regions=None,
        took_turns=take_turns, radiometric=radiometric, precision=precision,
        **stats)
    summary['changed_percent'] = (100 * stats['changed_pixels'] /
                                  max(stats['valid_pixels'], 1))
    if polygons:
        from ..geo.polygons import write_polygons
        with rasterio.Env(**env):
            summary['regions'] = write_polygons(out, polygons, min_area)
        summary['polygons'] = str(polygons)
    summary['seconds'] = time.perf_counter() - start
    return summary


def _resumable(record: SceneProgress, grid, out, prob_out) -> tuple:
    """(tiles done, their counts) by the interrupted run that ``record``
    describes, or (0, None), warned when it left something."""
    done, counts, why = record.load()
    if counts is not None:
        why = not_resumable(out, grid) or (
            prob_out and not_resumable(prob_out, grid, masked=True))
        if why:
            done, counts = 0, None
    if counts is None and osp.exists(record.path):
        warnings.warn(f'{out}: not resumed, started over: {why}',
                      stacklevel=3)
    return done, counts


def _run(model, pair: RasterPair, out, prob_out, tile, overlap, batch_size,
         env, progress, turns: CPUTurns, record: SceneProgress, done: int,
         counts: Optional[dict], every: Optional[float], on_start,
         areas: Optional[GroundArea],
         should_stop: Optional[Callable[[], bool]],
         norm: RadiometricNormalizer) -> dict:
    """The read -> infer -> write pipeline from tile ``done`` on; outputs
    committed on success, on failure removed or, once progress is saved,
    kept to resume; when ``should_stop``, progress saved and kept."""
    writers = []
    try:
        writers.append(COGWriter(out, pair.grid, nodata=NODATA,
                                 resume=done > 0,
                                 tags=dict(RADIOMETRIC=norm.method)))
        if prob_out:
            writers.append(COGWriter(prob_out, pair.grid, masked=True,
                                     resampling='average', resume=done > 0))
    except BaseException:  # e.g. a folder that cannot be written
        for w in writers:
            w.abort(keep=osp.exists(record.path))
        raise
    stop, errors = threading.Event(), []
    read_q = queue.Queue(maxsize=2 * batch_size)  # this batch and the next
    write_q = queue.Queue(maxsize=2 * batch_size)
    tiles = (len(axis_windows(pair.height, tile, overlap)) *
             len(axis_windows(pair.width, tile, overlap)))
    if on_start:
        on_start(tiles, done)
    windows = itertools.islice(
        enumerate(tile_windows(pair.height, pair.width, tile, overlap)),
        done, None)
    prefix = _Prefix(done, counts)
    stats = dict(tiles_run=0, tiles_skipped=0)  # by this run, as they go
    cpu = {}
    reader = _worker(
        lambda: _read_tiles(pair, windows, read_q, write_q, stop, stats,
                            turns, cpu, norm),
        stop, read_q, errors, env, cpu, 'read')
    writer = _worker(lambda: _write_tiles(writers, write_q, stop, prefix,
                                          turns, record, every, areas),
                     stop, None, errors, env, cpu, 'write')
    reported = 0

    def report():
        nonlocal reported
        done = stats['tiles_run'] + stats['tiles_skipped']
        if progress and done > reported:
            progress(done - reported)
        reported = done

    def run_batch(batch):
        pairs = [dates for _, _, dates, _ in batch]
        with turns.model():
            results = predict_tiles(model, pairs)
        for (index, window, _, valid), (change, prob) in zip(batch, results):
            if not _put(write_q, (index, window, change, prob, valid),
                        stop):
                raise errors[0]
        stats['tiles_run'] += len(batch)
        report()

    try:
        batch = []
        while True:
            if should_stop is not None and should_stop():
                raise _StopAsked
            item = read_q.get()
            if item is _END:
                break
            if isinstance(item, _Failed):
                raise item.error
            batch.append(item)
            if len(batch) == batch_size:
                run_batch(batch)
                batch = []
        if batch:
            run_batch(batch)
        report()  # the nodata tiles read after the last batch
        _put(write_q, _END, stop)
        writer.join()
        reader.join()
        record.wait()
        if errors:
            raise errors[0]
        commit_start = time.perf_counter()
        _commit(writers)
    except BaseException as e:
        asked = isinstance(e, _StopAsked)
        if asked:  # the tiles the model finished are written first
            _put(write_q, _END, stop)
            writer.join()
        stop.set()
        while reader.is_alive():  # it may wait to hand over its last item
            try:
                read_q.get(timeout=0.1)
            except queue.Empty:
                pass
        writer.join()
        record.wait()
        if asked and prefix.done:  # the writer is done: nothing moves
            _save_progress(writers, record, prefix)
            record.wait()
        for w in writers:
            w.abort(keep=osp.exists(record.path))
        if asked:
            raise SceneStopped(out, prefix.done, tiles) from None
        raise
    return dict(prefix.counts, tiles_resumed=done,
                read_cpu_seconds=cpu.get('read', 0.0) +
                cpu.get('read_dates', 0.0),
                write_cpu_seconds=cpu.get('write', 0.0),
                commit_seconds=time.perf_counter() - commit_start)
