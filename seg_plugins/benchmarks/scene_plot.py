"""The scene benchmark's plot: throughput and peak memory against the scene
size (``tools/analysis/benchmark_scene.py --plot``)."""
from typing import List


def plot_rows(rows: List[dict], path: str, threads: int) -> None:
    """Scene and bare-forward MP/s, and the scene's peak memory, against
    the scene size (one line per kind), as a PNG at ``path``.

    Args:
        rows (list[dict]): ``kind``, ``size``, ``scene`` and ``bare``
            (MP/s) and ``peak`` (MiB) of each measured size.
        path (str): the PNG to write.
        threads (int): the model's threads, for the title.
    """
    import matplotlib
    matplotlib.use('Agg')  # no display needed
    import matplotlib.pyplot as plt
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(10, 4))
    for kind in dict.fromkeys(r['kind'] for r in rows):
        mine = [r for r in rows if r['kind'] == kind]
        sizes = [r['size'] for r in mine]
        line, = speed.plot(sizes, [r['scene'] for r in mine], 'o-',
                           label=f'{kind}: scene')
        speed.plot(sizes, [r['bare'] for r in mine], 's--',
                   color=line.get_color(), label=f'{kind}: bare forward')
        memory.plot(sizes, [r['peak'] for r in mine], 'o-', label=kind)
    for ax, ylabel in ((speed, 'megapixels per second'),
                       (memory, 'peak memory above baseline, MB')):
        ax.set_xscale('log', base=2)
        ticks = sorted({r['size'] for r in rows})
        ax.set_xticks(ticks, [f'{s}²' for s in ticks])
        ax.set_xlabel('scene size, pixels')
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
        ax.grid(alpha=0.3)
        ax.legend()
    speed.set_title(f'throughput (--threads {threads})')
    memory.set_title('peak memory of the scene run')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
