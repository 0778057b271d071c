"""The outputs of a scene run: the change (and probability, and for a
semantic change model from-class and to-class) COGs written tile core by
tile core, their counts and their progress record."""
import os.path as osp
from contextlib import nullcontext
from typing import List, Optional

import numpy as np

from ..geo.cog import COGWriter
from ..geo.ground_area import ground_area
from ..geo.tiling import Window, core_slices
from ..utils.cpu_turns import CPUTurns
from .scd_scene import ClassTable, class_paths, tile_tables, zero_tables
from .scene_progress import COUNTS, DonePrefix, SceneProgress

NODATA = 255  # of the change map


class SceneOutputs:
    """The writers of a run's outputs on A's grid, the tiles written and
    counted (:class:`DonePrefix`) and the record that saves them.

    Args:
        out (str): Change map COG: uint8 1 changed, 0 unchanged,
            :data:`NODATA` where either date is nodata.
        prob_out (str, optional): Change probability COG, uint8 0-255,
            masked where either date is nodata.
        grid: The outputs' grid (``RasterPair.grid``).
        record (SceneProgress): The run's progress record.
        radiometric (str): The dates' normalisation, tagged on the change
            map (``RADIOMETRIC``).
        done (int): Tiles done by the run resumed (its partial files are
            written on); 0 starts afresh.
        counts (dict, optional): Those tiles' counts.
        classes (ClassTable, optional): A semantic change model's classes:
            its from-class and to-class COGs (``scd_scene.class_paths``,
            :data:`NODATA` where either date is) are written too, with
            this colour table and names, and the from-to pairs counted.
    """

    def __init__(self, out: str, prob_out: Optional[str], grid,
                 record: SceneProgress, radiometric: str, done: int = 0,
                 counts: Optional[dict] = None,
                 classes: Optional[ClassTable] = None):
        self.record, self.classes = record, classes
        if classes is not None and counts is None:
            counts = dict(dict.fromkeys(COUNTS, 0),
                          **zero_tables(len(classes.names)))
        self.prefix = DonePrefix(done, counts)
        self.areas = ground_area(grid)
        self.writers: List[COGWriter] = []
        self.prob = self.class_writers = None
        try:
            self.writers.append(COGWriter(
                out, grid, nodata=NODATA, resume=done > 0,
                tags=dict(RADIOMETRIC=radiometric)))
            if prob_out:
                self.prob = COGWriter(prob_out, grid, masked=True,
                                      resampling='average', resume=done > 0)
                self.writers.append(self.prob)
            if classes is not None:
                self.class_writers = [COGWriter(
                    path, grid, nodata=NODATA, resume=done > 0,
                    palette=classes.palette, names=classes.names)
                    for path in class_paths(out)[:2]]
                self.writers += self.class_writers
        except BaseException:  # e.g. a folder that cannot be written
            self.abort()
            raise

    def write_tile(self, index: int, window: Window,
                   change: Optional[np.ndarray], prob: Optional[np.ndarray],
                   valid: np.ndarray, classes: Optional[tuple],
                   turns: CPUTurns) -> None:
        """Write a tile's core, nodata where either date is, and count its
        valid and changed pixels and the changed ones' ground area (at the
        core's centre; in the writer, not between the model's batches),
        by from-to pair too with ``classes``.

        Args:
            index (int): The tile's place in ``tile_windows``' order.
            window (tuple): Its window from ``tile_windows``.
            change, prob (np.ndarray | None): (h, w) uint8 of the whole
                tile; None for a tile that was not run.
            valid (np.ndarray): (h, w) bool of the whole tile.
            classes (tuple, optional): The from-class and to-class maps
                (h, w) uint8 of the whole tile, for a semantic change model
                (None for a tile that was not run).
            turns (CPUTurns): The writes are side work.
        """
        ran = change is not None
        core = core_slices(window)
        valid = valid[core]
        maps = [change, prob] + list(classes or [None, None])
        fills = (NODATA, 0, NODATA, NODATA)
        if not ran:
            maps = [np.full(valid.shape, f, np.uint8) for f in fills]
        else:
            maps = [m if m is None else m[core] for m in maps]
            invalid = ~valid
            for m, fill in zip(maps, fills):
                if m is not None:
                    m[invalid] = fill
        core_r, core_c = window[2:]
        with turns.side():
            self.writers[0].write(core_r, core_c, maps[0])
            if self.prob is not None:
                self.prob.write(core_r, core_c, maps[1], valid)
            for writer, m in zip(self.class_writers or [], maps[2:]):
                writer.write(core_r, core_c, m)
        changed = int(np.count_nonzero(maps[0] == 1))
        pixel_m2 = None
        if changed and self.areas is not None:
            pixel_m2 = self.areas.pixel((core_r.start + core_r.stop) / 2,
                                        (core_c.start + core_c.stop) / 2)
        counts = dict(
            valid_pixels=int(np.count_nonzero(valid)),
            changed_pixels=changed, tiles_run=int(ran),
            tiles_skipped=int(not ran),
            changed_m2=changed * pixel_m2 if pixel_m2 else 0.0)
        if self.classes is not None:
            counts.update(tile_tables(maps[2], maps[3], valid,
                                      len(self.classes.names), pixel_m2))
        self.prefix.finish(index, counts)

    def save_progress(self, turns: Optional[CPUTurns] = None) -> bool:
        """Hand the outputs written so far to the OS and save the progress
        in the background, once it is on disk; False, and nothing saved,
        while the last save still runs
        (``SceneProgress.save_when_synced``)."""
        with turns.side() if turns is not None else nullcontext():
            for writer in self.writers:
                writer.sync()
        # Copies: the tables are added to in place by the next tiles.
        counts = {k: np.copy(v) if isinstance(v, np.ndarray) else v
                  for k, v in self.prefix.counts.items()}
        return self.record.save_when_synced(
            [f for w in self.writers for f in w.files], self.prefix.done,
            counts)

    def commit(self) -> None:
        """Publish every output, one after the other (each COG copy takes
        every core): GDAL writing two datasets in two threads shares its
        block cache between them (``geo/cog.py``). Every raw file and the
        progress record stay until all the COGs are written and under
        their names: a run killed before then resumes from its record,
        whichever output it had published (it needs the raw files of all
        of them). The change map is cleaned last: that removes the
        record."""
        for writer in reversed(self.writers):
            writer.publish()
        for writer in reversed(self.writers):
            writer.replace()
        for writer in reversed(self.writers):
            writer.clean()

    def abort(self) -> None:
        """Remove the partial outputs, or keep them where progress is
        saved to resume them."""
        for w in self.writers:
            w.abort(keep=osp.exists(self.record.path))
