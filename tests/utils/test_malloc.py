"""keep_freed_memory: freed large blocks are reused without page faults.

Through libc's own malloc, as torch allocates (numpy asks for huge pages,
which hides the faults being counted)."""
import mmap
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='glibc malloc')
SIZE = 64 * 2**20  # bytes: above any mmap threshold
PAGES = SIZE // mmap.PAGESIZE
SCRIPT = r'''
import ctypes, resource, sys, threading
from seg_plugins.utils.malloc import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == '1' else False
libc = ctypes.CDLL('libc.so.6')
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = int(sys.argv[2])
faults = []

def use():  # as torch allocates: malloc, written, freed
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)
    faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt -
                  before)

for _ in range(3):
    use()
if sys.argv[3] == 'thread':  # then in a new thread, as the scene reader
    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
print(int(applied), faults[-1])
'''


def _run(apply: bool, env=None, size=SIZE, where='main'):
    out = subprocess.run([sys.executable, '-c', SCRIPT, str(int(apply)),
                          str(size), where], capture_output=True,
                         text=True, check=True, env=env)
    applied, faults = map(int, out.stdout.split())
    return bool(applied), faults


def test_freed_memory_is_reused_without_page_faults():
    applied, faults = _run(True)
    assert applied
    assert faults < PAGES // 100  # the third block reuses the first's
    applied, faults = _run(False)
    assert not applied
    assert faults >= PAGES // 2  # glibc's default: fresh pages each time


def test_a_new_thread_reuses_memory_freed_before():
    # 16 MB: a thread's own arena holds at most 64 MB.
    size = 16 * 2**20
    pages = size // mmap.PAGESIZE
    applied, faults = _run(True, size=size, where='thread')
    assert applied
    assert faults < pages // 100
    applied, faults = _run(False, size=size, where='thread')
    assert faults >= pages // 2  # a fresh arena of its own


def test_user_tunables_win():
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    applied, faults = _run(True, env)
    assert not applied
    assert faults >= PAGES // 2
