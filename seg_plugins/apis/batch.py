"""Scene pairs run crash-safe, one given or many from a list: which
outputs a run replaces, skips or finishes (``--resume``), which lines of a
list clash, and one rank's share of the list (``tools/infer.py --pairs``,
``tools/dist_infer.sh``)."""
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass, fields
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from torch import nn

from ..geo.band_stack import date_files
from ..geo.cog import check_outputs, remove_partials
from ..geo.remote import exists, path_key
from ..utils.preemption import Preempted, StopSignal
from ..utils.progress import Progress
from .scd_scene import polygon_classes
from .scene_inference import SceneStopped, infer_change_scene
from .scene_report import describe_scene, quicklook_and_scores, report_stopped

Line = Tuple[int, List[str]]  # (line number, fields) of a pairs list


class OutputPaths(NamedTuple):
    """A pair's outputs: ``change`` (the change map COG), ``prob`` (the
    change probability COG), ``polygons`` (change regions, ``.gpkg`` or
    ``.geojson``) and ``quicklook`` (a small overlay PNG); None where not
    asked for."""
    change: str
    prob: Optional[str] = None
    polygons: Optional[str] = None
    quicklook: Optional[str] = None


@dataclass
class InferSettings:
    """How every pair of a run is inferred and its outputs finished.

    Attributes:
        tile (int): Tile side, in pixels.
        overlap (int): Pixels shared by neighbouring tiles.
        batch_size (int): Tiles per forward pass.
        bands (Sequence[int], optional): 1-based bands read from both
            dates; None: all.
        align (bool): Resample B onto A's grid.
        radiometric (str): 'none', 'standardize' or 'match'.
        min_area (float): Smallest polygon kept, m^2 on the ground.
        label (str, optional): Reference change raster to score against.
        overwrite (bool): Replace existing outputs.
        resume (bool): Skip the pairs done, finish or continue the others
            (:func:`overwrite_or_skip`).
        checkpoint_seconds (float, optional): How often a scene's progress
            is saved.
    """
    tile: int = 256
    overlap: int = 32
    batch_size: int = 4
    bands: Optional[Sequence[int]] = None
    align: bool = False
    radiometric: str = 'none'
    min_area: float = 0.0
    label: Optional[str] = None
    overwrite: bool = False
    resume: bool = False
    checkpoint_seconds: Optional[float] = 60.0

    @classmethod
    def from_args(cls, args) -> 'InferSettings':
        """The settings of ``tools/infer.py``'s parsed options."""
        values = {f.name: getattr(args, f.name) for f in fields(cls)}
        values['radiometric'] = values['radiometric'] or 'none'
        return cls(**values)


def overwrite_or_skip(outputs: OutputPaths, resume: bool, overwrite: bool,
                      where: str) -> Optional[bool]:
    """Whether a pair's run replaces its existing outputs.

    Without ``resume``: ``overwrite``. With it, a pair whose outputs all
    exist is skipped (each is published under its name only once complete)
    and the raw files a stopped run left beside them are removed; one with
    some missing is made again, the others replaced.

    Args:
        outputs (OutputPaths): The pair's outputs.
        resume (bool): ``--resume``.
        overwrite (bool): ``--overwrite``.
        where (str): The pair, as its lines name it.

    Returns:
        bool | None: Whether to replace, None to skip the pair.
    """
    if not resume:
        return overwrite
    wanted = [p for p in outputs if p]
    there = [p for p in wanted if osp.exists(p)]
    if len(there) == len(wanted):
        # Raw files beside finished outputs: a run killed in its last
        # cleanup, or an --overwrite run killed that --resume cannot take
        # up (it skips this pair): of no use, and a byte a pixel each.
        left = [f for p in (outputs.change, outputs.prob) if p
                for f in remove_partials(p)]
        print(f'[skip] {where}: done before, its outputs exist '
              f'({", ".join(wanted)})' + (
                  f'; removed what a stopped run left: {", ".join(left)}'
                  if left else ''))
        return None
    if there:
        missing = [p for p in wanted if p not in there]
        print(f'[redo] {where}: {", ".join(missing)} missing, so '
              f'{", ".join(there)} are made again')
    return bool(there)


def read_pairs(path: str) -> List[Line]:
    """(line number, fields) of each non-blank, non-comment line of a
    pairs list (lines ``A B OUT``)."""
    with open(path) as f:
        return [(i, line.split()) for i, line in enumerate(f, 1)
                if line.strip() and not line.lstrip().startswith('#')]


def line_outputs(out: str,
                 suffixes: Sequence[Optional[str]]) -> OutputPaths:
    """A pairs line's outputs: ``out``, then its stem with each suffix
    (probability, polygons, quicklook; e.g. '_prob.tif', '.gpkg'); None
    where the suffix is None."""
    stem = osp.splitext(out)[0]
    return OutputPaths(out, *(s and stem + s for s in suffixes))


def list_clashes(lines: Sequence[Line],
                 suffixes: Sequence[Optional[str]]) -> Dict[int, str]:
    """Lines of a whole pairs list whose outputs are an earlier line's
    outputs or any other line's input.

    Run, two ranks would write one file at once, or one read a file that
    another writes. Every rank finds the same lines. The first line to
    name an output keeps it.

    Args:
        lines (Sequence[Line]): :func:`read_pairs`' lines.
        suffixes (Sequence[str | None]): As :func:`line_outputs` takes.

    Returns:
        dict[int, str]: Line number to the clash, in words.
    """
    inputs, outputs, clashes = {}, {}, {}
    pairs = [(n, f) for n, f in lines if len(f) == 3]
    for number, (img_a, img_b, _) in pairs:
        for path in date_files(img_a) + date_files(img_b):
            inputs.setdefault(path_key(path), set()).add(number)
    for number, (_, _, out) in pairs:
        for path in line_outputs(out, suffixes):
            key = path and path_key(path)
            if not key:
                continue
            readers = sorted(inputs.get(key, set()) - {number})
            if readers:
                clashes[number] = (f'output {path} is an input on line '
                                   f'{readers[0]}')
            elif outputs.setdefault(key, number) != number:
                clashes[number] = (f'output {path} is also written by line '
                                   f'{outputs[key]}')
            if number in clashes:
                break
    return clashes


def rank_and_world(launcher: str) -> Tuple[int, int]:
    """This process's rank and the number of ranks (``torchrun``'s
    ``RANK``, ``WORLD_SIZE``); (0, 1) with launcher 'none'."""
    if launcher == 'none':
        return 0, 1
    return (int(os.environ.get('RANK', 0)),
            int(os.environ.get('WORLD_SIZE', 1)))


class SceneBatch:
    """Scene pairs through :func:`infer_change_scene`, one by one, with
    their outputs finished and reported.

    Args:
        model (nn.Module): From :func:`init_change_model`.
        settings (InferSettings): How every pair is run.
        stop (StopSignal, optional): Once it has caught a signal, the
            scene being run stops gracefully
            (:class:`~seg_plugins.apis.SceneStopped`) and no further pair
            is started (``Preempted``); both exit with
            code 75.
    """

    def __init__(self, model: nn.Module, settings: InferSettings,
                 stop: Optional[StopSignal] = None):
        self.model, self.settings, self.stop = model, settings, stop

    def run(self, img_a, img_b, outputs: OutputPaths,
            where: Optional[str] = None) -> Optional[Mapping]:
        """One scene pair, its summary printed.

        Args:
            img_a: Date A as :func:`infer_change_scene` takes it.
            img_b: Date B.
            outputs (OutputPaths): What to write.
            where (str, optional): The pair in messages (default: its
                change map).

        Returns:
            Mapping | None: The run's summary; None when skipped
            (``resume``, done before); {} when only its polygons or
            quicklook were left to make (:meth:`finish`).

        Raises:
            ValueError: Bad input or an output that is an input.
            FileExistsError: An output exists without ``overwrite``.
            seg_plugins.apis.SceneStopped: ``stop`` caught a signal.
        """
        s, where = self.settings, where or outputs.change
        # An output that is an input is refused before --resume can take it
        # for a finished one.
        check_outputs(outputs, True, (img_a, img_b, s.label))
        cogs = [p for p in (outputs.change, outputs.prob) if p]
        if (s.resume and all(osp.exists(p) for p in cogs)
                and not all(osp.exists(p) for p in outputs if p)):
            return self.finish(outputs, img_b, where)
        overwrite = overwrite_or_skip(outputs, s.resume, s.overwrite, where)
        if overwrite is None:
            return None
        check_outputs(outputs, overwrite)
        bar = None

        def start(tiles: int, done: int) -> None:
            nonlocal bar
            if done:
                print(f'[resume] {where}: {done} of {tiles} tiles done '
                      'before, going on')
            bar = Progress(tiles - done, 'tiles')

        stop = self.stop
        try:
            summary = infer_change_scene(
                self.model, img_a, img_b, outputs.change,
                prob_out=outputs.prob, tile=s.tile, overlap=s.overlap,
                batch_size=s.batch_size, bands=s.bands, align=s.align,
                overwrite=overwrite, polygons=outputs.polygons,
                min_area=s.min_area, progress=lambda n: bar.update(n),
                resume=s.resume, checkpoint_seconds=s.checkpoint_seconds,
                on_start=start,
                should_stop=stop and (lambda: stop.received is not None),
                radiometric=s.radiometric)
        except SceneStopped as e:
            if bar is not None:
                bar.close()
            report_stopped(where, stop.received, f'{e.done} of {e.tiles} '
                           f'tiles saved in {e.out}.partial*' if e.done else
                           'no tile finished, nothing saved')
            raise
        bar.close()
        print(describe_scene(summary))
        quicklook_and_scores(outputs.change, outputs.quicklook, img_b,
                             s.label, summary.to_map)
        return summary

    def finish(self, outputs: OutputPaths, img_b, where: str) -> dict:
        """Make the polygons and quicklook missing beside a change map
        that a stopped run finished, from the map: without running the
        scene again (at scene scale that run is hours on a CPU).

        Returns:
            dict: {} (no inference summary).
        """
        missing = [p for p in (outputs.polygons, outputs.quicklook)
                   if p and not osp.exists(p)]
        print(f'[finish] {where}: {outputs.change} done before; making '
              f'{", ".join(missing)} from it')
        classes = polygon_classes(self.model, outputs.change)
        if outputs.polygons in missing:
            from ..geo.polygons import write_polygons
            regions = write_polygons(outputs.change, outputs.polygons,
                                     self.settings.min_area, classes=classes)
            print(f'  {outputs.polygons}: {regions} regions')
        quicklook = outputs.quicklook
        quicklook_and_scores(outputs.change,
                             quicklook if quicklook in missing else None,
                             img_b, self.settings.label,
                             classes and classes[1])
        return {}

    def run_list(self, pairs: str, suffixes: Sequence[Optional[str]],
                 rank: int = 0, world: int = 1,
                 started: Optional[float] = None) -> int:
        """Every pair of this rank's share of a pairs list.

        A line that is malformed, clashes (:func:`list_clashes`), names a
        date that does not exist or fails is one ``[error]`` line on
        stderr, and the others still run.

        Args:
            pairs (str): The list: lines ``A B OUT`` (OUT a .tif).
            suffixes (Sequence[str | None]): Of each line's probability,
                polygons and quicklook (:func:`line_outputs`).
            rank (int): This process's share: lines ``rank``,
                ``rank + world``, ... (by line, whatever is done: on a
                rerun no pair changes rank).
            world (int): The number of shares.
            started (float, optional): ``time.perf_counter()`` at the
                start of the run, for the closing line; default now.

        Returns:
            int: The number of pairs that failed.

        Raises:
            seg_plugins.utils.preemption.Preempted: ``stop`` caught a
                signal; the later lines are not started.
        """
        started = time.perf_counter() if started is None else started
        every = read_pairs(pairs)
        clashes = list_clashes(every, suffixes)
        lines = every[rank::world]
        failed = skipped = 0
        for number, parts in lines:
            where = f'{pairs}:{number}'
            if self.stop is not None and self.stop.received:
                report_stopped(where, self.stop.received, "this line and "
                               "this rank's later ones not started")
                raise Preempted()
            error = self._line_error(number, parts, clashes)
            if error is None:
                img_a, img_b, out = parts
                try:
                    skipped += self.run(img_a, img_b,
                                        line_outputs(out, suffixes),
                                        where=where) is None
                except (ValueError, OSError) as e:  # OSError: writing,
                    error = str(e)  # e.g. disk full
            if error is not None:
                print(f'[error] {where}: {error}', file=sys.stderr)
                failed += 1
        before = f' ({skipped} done before)' if skipped else ''
        print(f'rank {rank}/{world}: {len(lines) - failed} of {len(lines)} '
              f'pairs done{before} in {time.perf_counter() - started:.1f} s')
        return failed

    @staticmethod
    def _line_error(number: int, parts: List[str],
                    clashes: Dict[int, str]) -> Optional[str]:
        """Why a pairs line cannot run, None when it can."""
        if len(parts) != 3 or number in clashes:
            return clashes.get(
                number, f'expected "A B OUT", got {" ".join(parts)!r}')
        img_a, img_b, _ = parts
        missing = [p for p in date_files(img_a) + date_files(img_b)
                   if not exists(p)]
        if missing:
            return f'{", ".join(missing)} not found'
        return None
