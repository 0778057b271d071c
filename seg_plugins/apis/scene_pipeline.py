"""The streamed read -> infer -> write run of one scene pair.

A reader thread reads the windows of both dates with rasterio, from whole
rows of blocks of one band of tiles at a time (``geo/block_rows.py``),
prefetching the next batch while the model runs; a writer thread writes
each tile's core into the outputs' raw partial files; no array of the
scene's size is ever held. Outputs are Cloud-Optimised GeoTIFFs on A's
grid, published under their final names only once complete
(``geo/cog.py``). Where the model's threads take every CPU core, reading
and writing take turns with its forward passes instead of running beside
them (``utils/cpu_turns.py``). Every ``checkpoint_seconds`` the partial
outputs are synced and the progress saved, so that a killed run can be
resumed (``scene_progress.py``).
"""
import itertools
import os.path as osp
import queue
import threading
import time
import warnings
from contextlib import nullcontext
from typing import Callable, Optional, Tuple

import numpy as np
from torch import nn

from ..geo.cog import not_resumable
from ..geo.radiometry import RadiometricNormalizer
from ..geo.raster_pair import RasterPair
from ..geo.tiling import (
    BAND_TILES,
    axis_windows,
    core_slices,
    row_chunks,
    shift_slice,
    tile_windows,
)
from ..utils.cpu_turns import CPUTurns
from ..utils.precision import model_precision
from ..utils.preemption import Preempted
from .change_inference import model_input, predict_tiles
from .scd_scene import class_paths, scd_class_table, write_area_table
from .scene_outputs import SceneOutputs
from .scene_progress import SceneProgress
from .scene_result import SceneResult
from .scene_threads import (
    END,
    Failed,
    TimedPool,
    put_until_stopped,
    start_worker,
)


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


class ScenePipeline:
    """One scene pair's run: its reader and writer threads, the queues
    between them and the model, the output writers and the progress
    record. Run once.

    Args:
        model (nn.Module): From :func:`init_change_model`.
        pair (RasterPair): The two dates, open, checked against the model.
        out (str): Change map COG.
        prob_out (str, optional): Change probability COG.
        record (SceneProgress): The progress record of this run's key.
        norm (RadiometricNormalizer): Applied to every window read.
        tile (int): Tile side, in pixels.
        overlap (int): Pixels shared by neighbouring tiles.
        batch_size (int): Tiles per forward pass.
        env (dict): GDAL options of the reader and writer threads.
        take_turns (bool): Read and write between forward passes only.
        resume (bool): Go on from what ``record`` says is done, when the
            partial outputs allow it; otherwise (warned) start over.
        checkpoint_seconds (float, optional): How often the outputs are
            synced and the progress saved; None: never.

    A semantic change model's from-class and to-class COGs are written
    too, and its from-to pairs counted (``scd_scene.py``).
    """

    def __init__(self, model: nn.Module, pair: RasterPair, out: str,
                 prob_out: Optional[str], record: SceneProgress,
                 norm: RadiometricNormalizer, *, tile: int, overlap: int,
                 batch_size: int, env: dict, take_turns: bool, resume: bool,
                 checkpoint_seconds: Optional[float]):
        self.model, self.pair, self.record, self.norm = (model, pair, record,
                                                         norm)
        self.out, self.prob_out = out, prob_out
        self.tile, self.overlap, self.batch_size = tile, overlap, batch_size
        self.classes = scd_class_table(model)
        self.env, self.every = env, checkpoint_seconds
        self.turns = CPUTurns(take_turns)
        self.precision = model_precision(model)
        self.tiles = (len(axis_windows(pair.height, tile, overlap)) *
                      len(axis_windows(pair.width, tile, overlap)))
        self.resumed, self._counts = (self._resume_point() if resume else
                                      (0, None))
        self.outputs: Optional[SceneOutputs] = None
        self.stop, self.errors = threading.Event(), []
        self.read_q = queue.Queue(maxsize=2 * batch_size)  # this batch, next
        self.write_q = queue.Queue(maxsize=2 * batch_size)
        self.stats = dict(tiles_run=0, tiles_skipped=0)  # by this run
        self.cpu = {}  # CPU seconds of the threads, by name
        self._progress: Optional[Callable[[int], None]] = None
        self._reported = 0

    def _resume_point(self) -> Tuple[int, Optional[dict]]:
        """(tiles done, their counts) by the interrupted run that the
        record describes, or (0, None), warned when it left something."""
        done, counts, why = self.record.load()
        if counts is not None:
            # (output, masked) of every output the run writes.
            outputs = [(self.out, False), (self.prob_out, True)] + [
                (p, False)
                for p in (class_paths(self.out)[:2] if self.classes else ())]
            why = next(filter(None, (
                not_resumable(p, self.pair.grid, masked=m)
                for p, m in outputs if p)), None)
            if self.classes and 'from_to_pixels' not in counts:
                why = why or 'the record has no from-to counts'
            if why:
                done, counts = 0, None
        if counts is None and osp.exists(self.record.path):
            warnings.warn(f'{self.out}: not resumed, started over: {why}',
                          stacklevel=4)
        return done, counts

    def run(self, progress: Optional[Callable[[int], None]] = None,
            on_start: Optional[Callable[[int, int], None]] = None,
            should_stop: Optional[Callable[[], bool]] = None
            ) -> SceneResult:
        """Run from the resumed tile on; outputs committed on success, on
        failure removed or, once progress is saved, kept to resume; when
        ``should_stop``, progress saved and kept (:class:`SceneStopped`).
        ``progress``, ``on_start`` and ``should_stop`` are
        :func:`infer_change_scene`'s.

        Returns:
            ~seg_plugins.apis.scene_result.SceneResult: Without
            ``polygons``, ``regions`` and ``seconds``, which the caller
            fills in.
        """
        self.outputs = SceneOutputs(self.out, self.prob_out, self.pair.grid,
                                    self.record, self.norm.method,
                                    self.resumed, self._counts, self.classes)
        self._progress = progress
        if on_start:
            on_start(self.tiles, self.resumed)
        reader = start_worker(self._read, self.stop, self.read_q,
                              self.errors, self.env, self.cpu, 'read')
        writer = start_worker(self._write, self.stop, None, self.errors,
                              self.env, self.cpu, 'write')
        try:
            self._infer(should_stop)
            put_until_stopped(self.write_q, END, self.stop)
            writer.join()
            reader.join()
            self.record.wait()
            if self.errors:
                raise self.errors[0]
            commit_start = time.perf_counter()
            if self.classes:  # before the commit removes the record
                write_area_table(class_paths(self.out)[2], self.classes,
                                 self.outputs.prefix.counts,
                                 self.outputs.areas is not None)
            self.outputs.commit()
        except BaseException as e:
            self._unwind(isinstance(e, _StopAsked), reader, writer)
            raise
        return self._result(time.perf_counter() - commit_start)

    def _infer(self, should_stop: Optional[Callable[[], bool]]) -> None:
        """Take the reader's tiles in batches through the model, until the
        reader ends; ``should_stop`` is asked before each tile."""
        batch = []
        while True:
            if should_stop is not None and should_stop():
                raise _StopAsked
            item = self.read_q.get()
            if item is END:
                break
            if isinstance(item, Failed):
                raise item.error
            batch.append(item)
            if len(batch) == self.batch_size:
                self._run_batch(batch)
                batch = []
        if batch:
            self._run_batch(batch)
        self._report()  # the nodata tiles read after the last batch

    def _run_batch(self, batch: list) -> None:
        """One forward pass; its tiles to the writer."""
        with self.turns.model():
            results = predict_tiles(self.model,
                                    [dates for _, _, dates, _ in batch])
        for (index, window, _, valid), (change, prob, *classes) in zip(
                batch, results):
            if not put_until_stopped(
                    self.write_q,
                    (index, window, change, prob, valid, classes or None),
                    self.stop):
                raise self.errors[0]
        self.stats['tiles_run'] += len(batch)
        self._report()

    def _report(self) -> None:
        """Tell ``progress`` the tiles finished since it was last told."""
        done = self.stats['tiles_run'] + self.stats['tiles_skipped']
        if self._progress and done > self._reported:
            self._progress(done - self._reported)
        self._reported = done

    def _read(self) -> None:
        """The reader thread: the tiles of one row of a band
        (``tile_windows``' order) read as one window and handed out one by
        one: one window per row of a band keeps the pair's rows of blocks
        for the next row (see ``RasterPair.read``), and a wide window is
        cheaper to cut out than overlapping tiles.

        Taking turns, the two dates are read at once, between forward
        passes; the CPU time of those reads goes to
        ``cpu['read_dates']``. Each window read is normalised with the
        scene's ``norm``.
        """
        windows = itertools.islice(
            enumerate(tile_windows(self.pair.height, self.pair.width,
                                   self.tile, self.overlap)),
            self.resumed, None)
        with TimedPool(2) if self.turns.enabled else nullcontext() as pool:
            try:
                for tiles in row_chunks(windows, BAND_TILES):
                    rows = tiles[0][1][0]
                    cols = slice(tiles[0][1][1].start, tiles[-1][1][1].stop)
                    with self.turns.side():
                        img_a, img_b, valid = self.pair.read(rows, cols, pool)
                        img_a, img_b = self.norm.apply(img_a, img_b, valid)
                    if not self._hand_out(tiles, cols, img_a, img_b, valid):
                        return
            finally:
                if pool is not None:
                    self.cpu['read_dates'] = pool.cpu_seconds

    def _hand_out(self, tiles: list, cols: slice, img_a: np.ndarray,
                  img_b: np.ndarray, valid: np.ndarray) -> bool:
        """Queue the (index, window) tiles of one read window: to the
        writer those whose core is nodata throughout, to the model the
        others. The model's queue then holds tiles to run only: the reader
        stays ahead of the model across nodata, and the model's thread
        does nothing per tile but run it. False once the run stops.

        Args:
            img_a, img_b (np.ndarray): The window's dates, (h, w, C).
            valid (np.ndarray): (h, w) bool, valid in both dates.
        """
        for index, window in tiles:
            c = shift_slice(window[1], cols.start)
            # Copies: a queued tile then holds its own pixels, not the
            # row's, so memory is the queues' tiles, however sparse.
            tile_valid = valid[:, c].copy()
            if not tile_valid[core_slices(window)].any():
                item = (index, window, None, None, tile_valid, None)
                q = self.write_q
            else:
                item, q = (index, window,
                           model_input((img_a[:, c], img_b[:, c])),
                           tile_valid), self.read_q
            if not put_until_stopped(q, item, self.stop):
                return False
            if q is self.write_q:
                self.stats['tiles_skipped'] += 1
        return True

    def _write(self) -> None:
        """The writer thread: each tile's core written, until the end of
        its queue; every ``checkpoint_seconds`` the outputs are synced and
        the progress saved."""
        prefix = self.outputs.prefix
        saved, last = prefix.done, time.monotonic()
        while True:
            try:
                item = self.write_q.get(timeout=0.1)
            except queue.Empty:
                if self.stop.is_set():
                    return
                continue
            if item is END or self.stop.is_set():
                return
            self.outputs.write_tile(*item, self.turns)
            if (self.every is not None and prefix.done > saved
                    and time.monotonic() - last >= self.every):
                if self.outputs.save_progress(self.turns):
                    saved = prefix.done
                last = time.monotonic()

    def _unwind(self, asked: bool, reader: threading.Thread,
                writer: threading.Thread) -> None:
        """After a failure or a stop: the threads ended, the outputs
        removed, or kept where progress is saved to resume them. Asked to
        stop, the tiles the model finished are written and saved first,
        and :class:`SceneStopped` raised."""
        if asked:
            put_until_stopped(self.write_q, END, self.stop)
            writer.join()
        self.stop.set()
        while reader.is_alive():  # it may wait to hand over its last item
            try:
                self.read_q.get(timeout=0.1)
            except queue.Empty:
                pass
        writer.join()
        self.record.wait()
        done = self.outputs.prefix.done
        if asked and done:  # the writer is done: nothing moves
            self.outputs.save_progress()
            self.record.wait()
        self.outputs.abort()
        if asked:
            raise SceneStopped(self.out, done, self.tiles) from None

    def _result(self, commit_seconds: float) -> SceneResult:
        """The run's :class:`SceneResult`, before polygons."""
        counts, pair = self.outputs.prefix.counts, self.pair
        areas = self.outputs.areas
        crs = pair.grid.crs
        maps = class_paths(self.out) if self.classes else (None, ) * 3
        return SceneResult(
            change=str(self.out), from_map=maps[0], to_map=maps[1],
            area_table=maps[2],
            prob=self.prob_out and str(self.prob_out), polygons=None,
            height=pair.height, width=pair.width,
            valid_pixels=counts['valid_pixels'],
            changed_pixels=counts['changed_pixels'],
            changed_percent=(100 * counts['changed_pixels'] /
                             max(counts['valid_pixels'], 1)),
            crs=crs and crs.to_string(), georeferenced=crs is not None,
            pixel_area_m2=None if areas is None else areas.pixel(
                pair.height / 2, pair.width / 2),
            changed_area_m2=None if areas is None else counts['changed_m2'],
            tiles_run=counts['tiles_run'],
            tiles_skipped=counts['tiles_skipped'],
            tiles_resumed=self.resumed, regions=None, seconds=0.0,
            read_cpu_seconds=(self.cpu.get('read', 0.0) +
                              self.cpu.get('read_dates', 0.0)),
            write_cpu_seconds=self.cpu.get('write', 0.0),
            commit_seconds=commit_seconds, took_turns=self.turns.enabled,
            radiometric=self.norm.method,
            precision=self.precision)
