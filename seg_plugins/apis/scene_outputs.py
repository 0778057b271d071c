"""The outputs of a scene run: the change (and probability) COGs written
tile core by tile core, their counts and their progress record."""
import os.path as osp
from contextlib import nullcontext
from typing import List, Optional

import numpy as np

from ..geo.cog import COGWriter
from ..geo.ground_area import ground_area
from ..geo.tiling import Window, core_slices
from ..utils.cpu_turns import CPUTurns
from .scene_progress import DonePrefix, SceneProgress

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
    """

    def __init__(self, out: str, prob_out: Optional[str], grid,
                 record: SceneProgress, radiometric: str, done: int = 0,
                 counts: Optional[dict] = None):
        self.record = record
        self.prefix = DonePrefix(done, counts)
        self.areas = ground_area(grid)
        self.writers: List[COGWriter] = []
        try:
            self.writers.append(COGWriter(
                out, grid, nodata=NODATA, resume=done > 0,
                tags=dict(RADIOMETRIC=radiometric)))
            if prob_out:
                self.writers.append(COGWriter(
                    prob_out, grid, masked=True, resampling='average',
                    resume=done > 0))
        except BaseException:  # e.g. a folder that cannot be written
            self.abort()
            raise

    def write_tile(self, index: int, window: Window,
                   change: Optional[np.ndarray], prob: Optional[np.ndarray],
                   valid: np.ndarray, turns: CPUTurns) -> None:
        """Write a tile's core, nodata where either date is, and count its
        valid and changed pixels and the changed ones' ground area (at the
        core's centre; in the writer, not between the model's batches).

        Args:
            index (int): The tile's place in ``tile_windows``' order.
            window (tuple): Its window from ``tile_windows``.
            change, prob (np.ndarray | None): (h, w) uint8 of the whole
                tile; None for a tile that was not run.
            valid (np.ndarray): (h, w) bool of the whole tile.
            turns (CPUTurns): The writes are side work.
        """
        ran = change is not None
        core = core_slices(window)
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
            self.writers[0].write(core_r, core_c, change)
            if len(self.writers) > 1:
                self.writers[1].write(core_r, core_c, prob, valid)
        changed = int(np.count_nonzero(change == 1))
        m2 = 0.0
        if changed and self.areas is not None:
            m2 = changed * self.areas.pixel(
                (core_r.start + core_r.stop) / 2,
                (core_c.start + core_c.stop) / 2)
        self.prefix.finish(index, dict(
            valid_pixels=int(np.count_nonzero(valid)),
            changed_pixels=changed, tiles_run=int(ran),
            tiles_skipped=int(not ran), changed_m2=m2))

    def save_progress(self, turns: Optional[CPUTurns] = None) -> bool:
        """Hand the outputs written so far to the OS and save the progress
        in the background, once it is on disk; False, and nothing saved,
        while the last save still runs
        (``SceneProgress.save_when_synced``)."""
        with turns.side() if turns is not None else nullcontext():
            for writer in self.writers:
                writer.sync()
        return self.record.save_when_synced(
            [f for w in self.writers for f in w.files], self.prefix.done,
            self.prefix.counts)

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
