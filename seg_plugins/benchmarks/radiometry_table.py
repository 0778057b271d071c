"""What the radiometry benchmark prints: each test pair's draw, then one
Markdown row per recipe and the default recipe's verdict."""
from typing import Dict, List, Sequence, Tuple

from .radiometry_recipes import DEFAULT_RECIPE

TARGET_GAP = 3  # points: the default's held-out mean vs its same-draw F1


def draw_lines(radiometry: Dict[str, list]) -> List[str]:
    """B's radiometry per test pair.

    Args:
        radiometry (dict): {name: (gain, offset)}, as
            :func:`~seg_plugins.benchmarks.radiometry_data.write_data`
            returns it (offsets in uint8 levels).

    Returns:
        list[str]: a heading, then one line per pair.
    """
    lines = ['B radiometry (gain, offset in uint8 levels) per test pair:']
    for name, (gain, offset) in radiometry.items():
        lines.append(f'  {name:10s} gain {gain}  offset {offset}')
    return lines


def table_lines(rows: Sequence[Tuple[str, dict]], draws: int) -> List[str]:
    """The Markdown table of the recipes and the default recipe's verdict.

    Args:
        rows (Sequence[tuple[str, dict]]): (recipe, summary) as
            :func:`~seg_plugins.benchmarks.radiometry_eval.run_recipes`
            returns them.
        draws (int): how many held-out pairs the means are over.

    Returns:
        list[str]: a blank line, the table, and where the default recipe
        ran, whether its gap is within :data:`TARGET_GAP` points.
    """
    lines = ['', f'| recipe | same-draw F1 | held-out F1 (mean of '
             f'{draws}) | worst | gap |', '|---|---|---|---|---|']
    for recipe, r in rows:
        mark = ' (default)' if recipe == DEFAULT_RECIPE else ''
        lines.append(f'| {recipe}{mark} | {r["same"]:.2f} | '
                     f'{r["held"]:.2f} | {r["worst"]:.2f} | '
                     f'{r["gap"]:+.2f} |')
    for recipe, r in rows:
        if recipe == DEFAULT_RECIPE:
            ok = abs(r['gap']) <= TARGET_GAP
            lines.append(f'default recipe: held-out within '
                         f'{abs(r["gap"]):.2f} points of same-draw (target '
                         f'<= {TARGET_GAP}): {"met" if ok else "NOT met"}')
    return lines
