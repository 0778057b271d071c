"""Pick a checkpoint that ``--resume`` can actually load.

mmengine's ``find_latest_checkpoint`` returns whatever ``last_checkpoint``
names, and the runner then fails on a truncated or corrupt file (a kill or a
full disk mid-write, with upstream's ``CheckpointHook``). Here each
candidate is loaded first; one that does not load is named in a warning and
the newest earlier one that does is used.
"""
import glob
import logging
import os
import os.path as osp
from typing import List, NamedTuple, Optional

import torch
from mmengine.logging import print_log


class Resumable(NamedTuple):
    """A checkpoint that loads, and its ``meta``."""
    path: str
    meta: dict


def load_resumable(path: str):
    """Load ``path`` in full, as resuming would.

    Loading everything (``weights_only``, with the allow-list of
    ``seg_plugins.utils.checkpoint_compat``) is what detects a truncated or
    corrupt file.

    Returns:
        tuple: (:class:`Resumable`, None), or (None, why it cannot be
        resumed from).
    """
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001  (any failure means unusable)
        return None, f'{type(e).__name__}: {str(e).splitlines()[0][:200]}'
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('meta'), dict) \
            or 'state_dict' not in ckpt:
        return None, 'not a runner checkpoint (no meta / state_dict)'
    return Resumable(path, ckpt['meta']), None


def _candidates(work_dir: str) -> List[str]:
    """``last_checkpoint``'s target first, then the other checkpoints of
    its folder and of ``work_dir``, newest first (best_* are weights only,
    no optimizer: not resume points)."""
    named, folders = [], [work_dir]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            target = f.read().strip()
        if target:
            named.append(target)
            folders.insert(0, osp.dirname(target))
    found = []
    for folder in folders:
        found += [
            p for p in glob.glob(osp.join(folder, '*.pth'))
            if not osp.basename(p).startswith(('best_', '.'))
        ]
    found.sort(key=lambda p: os.stat(p).st_mtime, reverse=True)
    ordered = []
    for p in named + found:
        if osp.abspath(p) not in map(osp.abspath, ordered):
            ordered.append(p)
    return ordered


def find_resumable_checkpoint(work_dir: str) -> Optional[Resumable]:
    """The newest checkpoint in ``work_dir`` that loads, or None.

    Every candidate that does not load is named in a warning.
    """
    for path in _candidates(work_dir):
        if not osp.exists(path):
            print_log(f'--resume: last_checkpoint names {path}, which does '
                      'not exist; trying earlier checkpoints',
                      logger='current', level=logging.WARNING)
            continue
        found, problem = load_resumable(path)
        if found is not None:
            return found
        print_log(f'--resume: {path} cannot be loaded ({problem}); trying '
                  'the newest earlier checkpoint', logger='current',
                  level=logging.WARNING)
    return None
