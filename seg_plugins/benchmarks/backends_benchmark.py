"""The backends benchmark's runs (``tools/analysis/benchmark_backends.py``):
each family's network with every backend, then the scene path, printed as
they are measured."""
import tempfile

from .backends_families import FAMILIES, bench_family
from .backends_scene import bench_scene
from .backends_table import HEADER, TARGETS, family_lines, scene_lines


def run_backends(args, ghz: float) -> None:
    """Every family of ``args.families`` and, with ``args.scene``, the
    scene path; torch's threads are the caller's to set.

    Args:
        args (argparse.Namespace): the tool's options (``families``,
            ``threads``, ``repeat``, ``scene``).
        ghz (float): the CPU's clock, for the peaks.
    """
    from seg_plugins.utils.complexity import complexity
    print(HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.families:
            spec = FAMILIES[name]
            config, n, h, w, options = spec
            macs = n * complexity(config, (h, w))[1]
            rows, mp, diffs, same = bench_family(name, spec, args.threads,
                                                 args.repeat, tmp)
            for line in family_lines(name, f'{n}x{h}x{w}', rows, mp, diffs,
                                     same, macs, args.threads, ghz):
                print(line, flush=True)
        if args.scene:
            results, path = bench_scene(args.scene, args.threads, tmp)
            for line in scene_lines(args.scene, results, path):
                print(line, flush=True)
    print(TARGETS)
