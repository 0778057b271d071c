"""Progress of a scene run, saved beside its partial outputs so that a run
that is killed (a cluster's time limit, a preemption, a lost node) can be
continued instead of started over.

The record, ``<out>.partial.json``, holds how many tiles in
``tile_windows``' order are written to the partial outputs
(``geo/cog.py``) and synced to disk (the longest finished prefix: the
model finishes tiles out of order with the nodata ones), the counts of
those tiles, and a key of everything
that decides their pixels: both inputs (path, size, modification time),
bands, alignment, tiling, batch size, the outputs asked for, and the
model's weights and config. A run resumes only from a record whose key is
its own; any other record is stale and the run starts over.
"""
import hashlib
import json
import os
import os.path as osp
import threading
import warnings
import weakref
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..geo.band_stack import date_files
from ..geo.remote import gdal_path, is_remote
from ..utils.atomic_io import atomic_write

_FINGERPRINTS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()
# What a record keeps of the tiles done, and of what type.
COUNTS = dict(valid_pixels=int, changed_pixels=int, tiles_run=int,
              tiles_skipped=int, changed_m2=float)
# Kept too where a run counts them: arrays (semantic change's from-to
# pixels and m^2, ``scd_scene.py``).
TABLES = ('from_to_pixels', 'from_to_m2')



class DonePrefix:
    """The longest run of tiles written, in ``tile_windows``' order, from
    the first (the model finishes tiles out of order with the nodata
    ones), and the counts of those tiles (:data:`COUNTS`): what a record
    may say is done.

    Args:
        done (int): Tiles done before (by the run resumed).
        counts (dict, optional): Their counts; None: all zero.
    """

    def __init__(self, done: int = 0, counts: Optional[dict] = None):
        self.done = done
        self.counts = dict(counts or dict.fromkeys(COUNTS, 0))
        self._ahead = {}  # index -> counts, of tiles written past it

    def finish(self, index: int, counts: dict) -> None:
        """Tile ``index`` is written, with ``counts``."""
        self._ahead[index] = counts
        while self.done in self._ahead:
            for k, v in self._ahead.pop(self.done).items():
                self.counts[k] += v
            self.done += 1

def model_fingerprint(model: nn.Module) -> str:
    """Digest of the model's weights and buffers (an ONNX Runtime model:
    its file) and config, once per model object (hashing reads every
    weight, so the digest is cached)."""
    known = _FINGERPRINTS.get(model)
    if known is not None:
        return known
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(getattr(model, 'cfg', {}).get('model')).encode())
    onnx_file = getattr(model, 'onnx_file', None)
    if onnx_file is not None:
        with open(onnx_file, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 24), b''):
                digest.update(chunk)
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        # Bytes of any dtype (bfloat16 has no numpy view).
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(
            torch.uint8).numpy())
    _FINGERPRINTS[model] = digest.hexdigest()
    return _FINGERPRINTS[model]


def _file_id(spec) -> list:
    """Path, size and modification time of each file of a date; a remote
    file by its name only (a changed object under the same name is not
    seen: rerun without --resume)."""
    ids = []
    for path in date_files(spec):
        if is_remote(path):
            ids.append([gdal_path(path), None, None])
        else:
            st = os.stat(path)
            ids.append([osp.abspath(path), st.st_size, st.st_mtime_ns])
    return ids[0] if len(ids) == 1 else ids


def run_key(model: nn.Module, path_a: str, path_b: str, **settings) -> dict:
    """What decides a run's pixels: inputs, ``settings`` (JSON values:
    bands, tiling, ...) and the model."""
    return dict(a=_file_id(path_a), b=_file_id(path_b),
                model=model_fingerprint(model),
                **json.loads(json.dumps(settings)))


class SceneProgress:
    """The progress record of the run writing ``out``.

    Args:
        out (str): The change map's final path; the record is
            ``<out>.partial.json``, removed with the other partial files.
        key (dict): From :func:`run_key`.
    """

    def __init__(self, out: str, key: dict):
        self.path = str(out) + '.partial.json'
        self.key = key
        self._saving: Optional[threading.Thread] = None

    def load(self) -> Tuple[int, Optional[dict], str]:
        """The tiles done and their counts by an interrupted run with this
        key; (0, None, why not) when there is none to continue."""
        if not osp.exists(self.path):
            return 0, None, 'no progress saved'
        try:
            with open(self.path) as f:
                record = json.load(f)
            done, key = int(record['done']), record['key']
            # A record of another version may lack a count: start over.
            counts = {k: cast(record['counts'][k])
                      for k, cast in COUNTS.items()}
            counts.update((k, np.asarray(v)) for k, v in
                          record['counts'].items() if k in TABLES)
        except (OSError, ValueError, KeyError, TypeError) as e:
            return 0, None, f'{self.path} unreadable ({e})'
        if key != self.key:
            changed = sorted(k for k in set(key) | set(self.key)
                             if key.get(k) != self.key.get(k))
            return 0, None, f'settings changed: {", ".join(changed)}'
        return done, counts, ''

    def save(self, done: int, counts: dict) -> None:
        """Record ``done`` tiles, atomically: call only once their pixels
        are synced to disk."""
        atomic_write(self.path, json.dumps(dict(
            key=self.key, done=done,
            counts=dict({k: counts[k] for k in COUNTS},
                        **{k: np.asarray(counts[k]).tolist()
                           for k in TABLES if k in counts}))).encode())

    def save_when_synced(self, files: Sequence[str], done: int,
                         counts: dict) -> bool:
        """In a thread of its own: ``os.fsync`` each of ``files``, then
        :meth:`save`. Waiting for the disk there keeps it from stalling
        the pipeline; the files may be written meanwhile (what is synced
        is at least what ``done`` counts).

        Returns:
            bool: False, and nothing done, while the last one still runs.
        """
        if self._saving is not None and self._saving.is_alive():
            return False
        counts = dict(counts)

        def run():
            try:
                for path in files:
                    with open(path, 'rb+') as f:
                        os.fsync(f.fileno())
                self.save(done, counts)
            except OSError as e:  # the run goes on; this one is not saved
                warnings.warn(f'{self.path}: progress not saved: {e}',
                              stacklevel=1)

        self._saving = threading.Thread(target=run, daemon=True)
        self._saving.start()
        return True

    def wait(self) -> None:
        """Until the last :meth:`save_when_synced` is done."""
        if self._saving is not None:
            self._saving.join()
