"""Durable, atomic file writes, and the mmengine file backend that uses them.

mmengine 0.10.7's ``LocalBackend.put`` opens the final path with ``'wb'``
and writes in place, without fsync: a kill or a full disk mid-write leaves a
truncated checkpoint under the name ``--resume`` will pick. Here every file
is written to a temporary name in the same folder, fsynced, renamed over the
final name with ``os.replace`` (atomic on POSIX) and the folder fsynced, so
the final name holds either the old bytes or all of the new ones.

``AtomicLocalBackend`` is registered as mmengine file backend
``'atomic_local'``; ``SafeCheckpointHook`` passes
``backend_args=dict(backend='atomic_local')`` to the runner so that
mmengine's own ``save_checkpoint`` writes through it.

Chaos testing (``tests/engine/``): the environment variable
``SEG_PLUGINS_CHAOS`` makes a write fail on purpose. Its value is
``ACTION:NAME[:BYTES]``, where NAME is a substring of the file's basename:

- ``kill:NAME:BYTES`` SIGKILLs the process after BYTES bytes of the file
  have reached the temporary file (``end``: all of them, fsynced, just
  before the rename; ``replaced``: just after the rename);
- ``enospc:NAME`` fails the write with ``OSError(ENOSPC)`` as a full disk
  would.
"""
import errno
import os
import os.path as osp
import signal
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

CHAOS_ENV = 'SEG_PLUGINS_CHAOS'
_CHUNK = 1 << 20
# mkstemp creates 0600 files; give them open()'s mode (0666 & ~umask).
_UMASK = os.umask(0)
os.umask(_UMASK)


def _chaos(filepath: str):
    """(action, offset) requested by ``SEG_PLUGINS_CHAOS`` for this file."""
    spec = os.environ.get(CHAOS_ENV)
    if not spec:
        return None, None
    action, name, *rest = spec.split(':') + ['']
    if name and name in osp.basename(filepath):
        return action, (rest[0] if rest else '')
    return None, None


def _kill_now():
    os.kill(os.getpid(), signal.SIGKILL)


def fsync_dir(folder: str) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    fd = os.open(folder or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f'{n / 2**20:.1f} MiB' if n >= 2**20 else f'{n} bytes'


def _disk_full_error(filepath: str, needed: int, err: OSError) -> OSError:
    """An ENOSPC error that names the file and the space it needed."""
    try:
        st = os.statvfs(osp.dirname(filepath) or '.')
        free = _size(st.f_bavail * st.f_frsize)
    except OSError:
        free = 'unknown'
    return OSError(
        errno.ENOSPC,
        f'no space left to write {filepath}: it needs {_size(needed)}, '
        f'{free} free on that file system. The earlier files are intact.',
        filepath)


def atomic_write(filepath: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``filepath`` atomically and durably.

    Args:
        filepath (str | Path): Final path; its folder is created if needed.
        data (bytes): The whole content.

    Raises:
        OSError: The write failed; ``filepath`` is untouched and no
            temporary file is left. ENOSPC errors name the file and the
            space it needed.
    """
    filepath = str(filepath)
    folder = osp.dirname(filepath) or '.'
    os.makedirs(folder, exist_ok=True)
    action, offset = _chaos(filepath)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, 'wb') as f:
            if action == 'enospc':
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            stop = int(offset) if action == 'kill' and offset.isdigit() \
                else None
            view = memoryview(data)
            for start in range(0, len(data), _CHUNK):
                end = start + _CHUNK
                if stop is not None and end >= stop:
                    f.write(view[start:stop])
                    f.flush()
                    os.fsync(f.fileno())
                    _kill_now()
                f.write(view[start:end])
            if stop is not None:  # BYTES >= the file's size
                _kill_now()
            f.flush()
            os.fsync(f.fileno())
        if action == 'kill' and offset == 'end':
            _kill_now()
        os.replace(tmp, filepath)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise _disk_full_error(filepath, len(data), e) from e
        raise
    fsync_dir(folder)
    if action == 'kill' and offset == 'replaced':
        _kill_now()


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes are atomic and durable."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj.encode(encoding))

    def remove(self, filepath: Union[str, Path]) -> None:
        super().remove(filepath)
        fsync_dir(osp.dirname(str(filepath)))


register_backend('atomic_local', AtomicLocalBackend)
