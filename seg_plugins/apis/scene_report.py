"""What ``tools/infer.py`` says about a scene pair, and the outputs made
from its change map after the run: the summary line, the quicklook, the
scores against a reference, the line of a run stopped on a signal."""
import sys
from typing import Mapping, Optional

from ..utils.preemption import EXIT_PREEMPTED


def describe_scene(summary: Mapping) -> str:
    """The closing summary of one pair's run.

    Args:
        summary (Mapping): What :func:`infer_change_scene` returned.

    Returns:
        str: Its changed pixels (and ground area, or why none), tiles and
        time on one line; the from-class and to-class maps and area table
        of a semantic change model on a second; the regions written on
        the last line when polygons were asked for.
    """
    text = (f'{summary["change"]}: {summary["changed_pixels"]} of '
            f'{summary["valid_pixels"]} valid pixels changed '
            f'({summary["changed_percent"]:.2f}%)')
    if summary['changed_area_m2'] is not None:
        text += f', {summary["changed_area_m2"]:.1f} m^2'
    elif not summary['georeferenced']:
        text += ' (no CRS: written without georeferencing, no area)'
    else:
        text += f' (no area: {summary["crs"]} cannot be placed on Earth)'
    text += (f'; {summary["tiles_run"]} tiles run, '
             f'{summary["tiles_skipped"]} skipped (nodata), '
             f'{summary["seconds"]:.1f} s')
    if summary['tiles_resumed']:
        text += f' ({summary["tiles_resumed"]} of them by the run resumed)'
    if summary.get('from_map'):
        text += (f'\n  from/to classes: {summary["from_map"]}, '
                 f'{summary["to_map"]}; areas: {summary["area_table"]}')
    if summary['polygons']:
        text += f'\n  {summary["polygons"]}: {summary["regions"]} regions'
    return text


def quicklook_and_scores(change: str, quicklook: Optional[str],
                         image: Optional[str], label: Optional[str],
                         classes: Optional[str] = None) -> None:
    """Write the quicklook of a change map and print its scores against a
    reference, each when asked for.

    Args:
        change (str): The change map COG.
        quicklook (str, optional): PNG to write
            (:func:`~seg_plugins.geo.quicklook.write_quicklook`).
        image (str, optional): The quicklook's background (date B).
        label (str, optional): Reference change raster on the change
            map's grid (:func:`~seg_plugins.geo.compare.score_change`).
        classes (str, optional): A semantic change run's to-class map:
            the quicklook's changes in its class colours.
    """
    from ..geo.compare import score_change
    from ..geo.quicklook import write_quicklook
    if quicklook:
        write_quicklook(change, quicklook, image_path=image,
                        classes_path=classes)
        print(f'  quicklook: {quicklook}')
    if label:
        s = score_change(change, label)
        print(f'  vs {label}: F1 {s["f1"]:.2f} precision '
              f'{s["precision"]:.2f} recall {s["recall"]:.2f} IoU '
              f'{s["iou"]:.2f} (tp {s["tp"]} fp {s["fp"]} fn {s["fn"]})')


def report_stopped(where: str, signal_name: str, what: str) -> None:
    """Print (to stderr) that a run stopped on a signal, what it kept, and
    how to go on.

    Args:
        where (str): The pair: its change map, or ``list:line``.
        signal_name (str): The signal caught, e.g. 'SIGTERM'.
        what (str): What was saved or left undone.
    """
    print(f'[stopped] {where}: {signal_name}; {what}; rerun the same '
          'command with --resume to go on (exit code '
          f'{EXIT_PREEMPTED})', file=sys.stderr)
