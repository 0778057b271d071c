"""A small HTTP server on 127.0.0.1 that serves a folder with range
requests (as object stores and CDNs serve COGs), counts the bytes it
sends, and can be told to fail some requests with a status or to stall
them: what the remote-scene tests and
``tools/analysis/benchmark_remote.py`` read from."""
import os
import os.path as osp
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator


class RangeServer(ThreadingHTTPServer):
    """Serves ``root``; ``sent`` counts body bytes by path, ``requests``
    the requests answered, ``fail`` maps a path to a status returned
    instead, ``fail_times`` how many times (default once), ``stall`` a
    path to the seconds each request for it waits before any answer
    (ended early when the server shuts down)."""

    daemon_threads = True

    def __init__(self, root: str):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.root = root
        self.sent: Dict[str, int] = {}
        self.requests = 0
        self.fail: Dict[str, int] = {}
        self.fail_times: Dict[str, int] = {}
        self.stall: Dict[str, float] = {}
        self.closing = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request, client_address):
        """Quiet about clients that hung up (a timed-out reader)."""
        import sys
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.server_address[1]}'


class _Handler(BaseHTTPRequestHandler):
    server: RangeServer
    timeout = 10  # a client that stops reading does not hold a thread

    def log_message(self, *args):  # quiet: the test asserts, not the log
        pass

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        server, name = self.server, self.path.split('?')[0].lstrip('/')
        with server.lock:
            server.requests += 1
            status = server.fail.get(name)
            if status and server.fail_times.get(name, 1) > 0:
                server.fail_times[name] = server.fail_times.get(name, 1) - 1
            else:
                status = None
        if server.stall.get(name):
            if server.closing.wait(server.stall[name]):
                return  # shutting down: the client gave up long ago
        path = osp.join(server.root, name)
        if status is None and not osp.isfile(path):
            status = 404
        if status:
            self.send_response(status)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        size = osp.getsize(path)
        start, stop = 0, size - 1
        match = re.match(r'bytes=(\d+)-(\d*)', self.headers.get('Range', ''))
        if match:
            start = int(match.group(1))
            stop = min(int(match.group(2) or size - 1), size - 1)
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{stop}/{size}')
        else:
            self.send_response(200)
        self.send_header('Accept-Ranges', 'bytes')
        self.send_header('Content-Length', str(stop - start + 1))
        self.end_headers()
        if not body:
            return
        with open(path, 'rb') as f:
            f.seek(start)
            data = f.read(stop - start + 1)
        self.wfile.write(data)
        with server.lock:
            server.sent[name] = server.sent.get(name, 0) + len(data)


@contextmanager
def serve(root: str) -> Iterator[RangeServer]:
    """A ``RangeServer`` of ``root`` running in a thread until the block
    ends."""
    server = RangeServer(os.fspath(root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
