"""The table that the scene benchmark (``tools/analysis/benchmark_scene.py``)
prints: one row per kind and scene size."""
import statistics
from typing import List, Optional

HEADER = (f'{"kind":>6} {"size":>5} {"tiles":>6} {"skip":>5} '
          f'{"scene MP/s":>10} {"bare MP/s":>9} {"ratio":>6} '
          f'{"peak MB":>8} {"mem ratio":>9} {"model MB":>8} '
          f'{"vs infer_change":>15} {"side":>5} {"turns":>5} ratios')

LEGEND = ('ratio: bare forward time over the same tiles / scene time, '
          'median over the scene/bare pairs (ratios: their range; target '
          '>= 0.90 where a core is left to the pipeline, as on a GPU: '
          '--threads 1 here; with every core taken, side work comes off '
          'the model); mem ratio: scene peak above baseline vs the '
          'smallest size (target 0.90-1.10); model MB: the bare forward\'s '
          "own peak; vs infer_change: its time / the scene's (target >= "
          '1.0); side: CPU time of the reader (with its reading threads) '
          'and the writer plus the '
          "wall time of publishing the COGs, over the scene's time; turns: "
          'whether reading and writing took turns with the model '
          '(infer_change_scene\'s take_turns, on by default when the '
          "model's threads take every core)")


def size_row(kind: str, size: int, scenes: List[dict], bares: List[dict],
             peak: float, first_peak: float, model_mb: float,
             infer_change_s: Optional[float] = None) -> dict:
    """One kind and size's numbers from its runs.

    Args:
        kind (str): the pair's kind.
        size (int): the scene's side, pixels.
        scenes (list[dict]): the timed scene runs (``seconds``, ``tiles``,
            ``skipped``, ``side``, ``turns``), the first one's tiles run by
            the bare runs.
        bares (list[dict]): the bare runs, each back to back with the
            scene run of the same index.
        peak (float): the scene's peak above baseline, MiB.
        first_peak (float): the smallest size's peak, MiB.
        model_mb (float): the bare forward's own peak, MiB.
        infer_change_s (float, optional): seconds of ``infer_change`` on
            the same pair, where it ran.

    Returns:
        dict: ``kind``, ``size``, ``scene`` and ``bare`` (MP/s), ``peak``
        and, for :func:`format_row`, the rest.
    """
    scene = scenes[0]
    scene_s = statistics.median(s['seconds'] for s in scenes)
    bare_s = statistics.median(b['seconds'] for b in bares)
    # Per scene/bare pair, run back to back: the machine's speed drifts
    # over minutes by more than the gap measured.
    ratios = sorted(b['seconds'] / s['seconds']
                    for s, b in zip(scenes, bares))
    mp = size * size / 1e6
    # Bare: MP/s of the pixels the scene ran through the model.
    run_mp = mp * scene['tiles'] / (scene['tiles'] + scene['skipped'])
    vs = '' if infer_change_s is None else f'{infer_change_s / scene_s:.2f}x'
    return dict(kind=kind, size=size, scene=mp / scene_s,
                bare=run_mp / bare_s, peak=peak, tiles=scene['tiles'],
                skipped=scene['skipped'], ratios=ratios,
                mem_ratio=peak / max(first_peak, 1e-6), model_mb=model_mb,
                vs=vs, side=statistics.median(s['side'] for s in scenes),
                turns=scene['turns'])


def format_row(row: dict) -> str:
    """A :func:`size_row` as a line of the table under :data:`HEADER`."""
    ratios = row['ratios']
    return (f'{row["kind"]:>6} {row["size"]:>5} {row["tiles"]:>6} '
            f'{row["skipped"]:>5} {row["scene"]:10.3f} '
            f'{row["bare"]:9.3f} {statistics.median(ratios):6.2f} '
            f'{row["peak"]:8.1f} {row["mem_ratio"]:9.2f} '
            f'{row["model_mb"]:8.1f} {row["vs"]:>15} '
            f'{row["side"]:5.2f} '
            f'{"yes" if row["turns"] else "no":>5} '
            f'{ratios[0]:.2f}-{ratios[-1]:.2f}')
