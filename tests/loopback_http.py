"""An HTTP server on 127.0.0.1 (a free port) for test stubs, served from a daemon thread until closed,
and a base for their handlers (`StubHandler`: logs nothing, answers JSON with `send_json`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class StubHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a test's output is not the place for an access log

    def send_json(self, code: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        """`body` as a JSON response with Content-Length (and these extra headers)."""
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


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
