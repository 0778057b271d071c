"""One measurement of a scene benchmark in a process of its own.

Each measurement runs in a new interpreter (the benchmark script again,
with hidden options naming the measurement) so that its peak resident
memory (``ru_maxrss``) is its own; the child prints its result as JSON on
its last line of output.
"""
import json
import os
import subprocess
import sys
from typing import Dict, List, Sequence

# glibc's default initial mmap threshold (128 KiB): fixed, the threshold no
# longer grows as large tensors are freed, so the peak is the live memory.
MMAP_THRESHOLD = 128 * 1024


def option_flags(values: Dict[str, object]) -> List[str]:
    """Command-line flags ``--name value`` (underscores as dashes).

    Args:
        values (dict): option name to value; values are passed as ``str``.

    Returns:
        list[str]: the flags, in the order of ``values``.
    """
    flags = []
    for key, value in values.items():
        flags += [f'--{key.replace("_", "-")}', str(value)]
    return flags


def forwarded(args, keys: Sequence[str]) -> Dict[str, object]:
    """The options ``keys`` of the parent's parsed ``args``, for the child.

    Args:
        args (argparse.Namespace): the parent's options.
        keys (Sequence[str]): attribute names to pass on.

    Returns:
        dict: name to value, in the order of ``keys``.
    """
    return {key: getattr(args, key) for key in keys}


def run_child(script: str, flags: Sequence[str], label: str,
              live_memory: bool = False) -> dict:
    """``python script flags`` in a new process; its last line as JSON.

    Args:
        script (str): the benchmark script that measures when given its
            hidden options.
        flags (Sequence[str]): its command line after the script.
        label (str): what runs, for the message if it fails.
        live_memory (bool): fix glibc's mmap threshold
            (``MALLOC_MMAP_THRESHOLD_``) so that the child's peak is its
            live memory; it slows the model, so only for peaks.

    Returns:
        dict: the child's result.

    Raises:
        SystemExit: the child failed; the message names ``label`` and
            ends with the child's stderr.
    """
    env = dict(os.environ)
    if live_memory:
        env['MALLOC_MMAP_THRESHOLD_'] = str(MMAP_THRESHOLD)
    done = subprocess.run([sys.executable, script, *flags],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f'{label} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])
