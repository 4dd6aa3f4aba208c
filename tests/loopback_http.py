"""An HTTP server on 127.0.0.1 (a free port) for test stubs, served from a daemon thread until closed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _DaemonThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() does not wait for a request a test left hanging


class LoopbackHttpServer:
    """Serves `handler` on 127.0.0.1 from the moment it is made; `close()` (or leaving `with`) stops it.

    request_queue_size is the listen backlog: the default (5) drops SYNs when 20+ Locust users
    connect at once, which shows up as 1 s retransmit stalls."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, request_queue_size: int = 5) -> None:
        self.server = _DaemonThreadingServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.server.request_queue_size = request_queue_size
        try:
            self.server.server_bind()
            self.server.server_activate()
        except OSError:
            self.server.server_close()
            raise
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"  # no trailing slash
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackHttpServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
