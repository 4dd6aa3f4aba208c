"""Fake OpenAI chat-completions endpoint (stdlib only; uses uvloop if importable).

POST [/deployment/NAME]/.../chat/completions -> chat.completion (or SSE if stream=true).
(any path ending in /chat/completions, e.g. Azure-style). GET /health, /, /v1/models;
/stats (JSON counters: requests, per status, per quota key, "chat": per status of chat
completions only, so a benchmark counts its own calls and not e.g. the proxy's /v1/models);
/stats/reset zeroes them.
Quotas (--rpm-limit KEY=N, key "*" = any key): KEY is NAME from /deployment/NAME/... else the
model. Fixed 60 s windows per key, each starting at the key's first request after the previous
window ended; request N+1 in a window gets 429 + retry-after (seconds to window end).
Model "429" always answers 429. Env: FAKE_HOST, FAKE_PORT, FAKE_DELAY_MS, TIME_TO_SLEEP (s),
FAKE_RPM_LIMITS="a=100,b=200"; flags win.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeAlias, TypedDict

    class Stats(TypedDict):
        requests: int
        status: dict[str, int]
        keys: dict[str, dict[str, int]]
        chat: dict[str, int]
        since: float

    Reply: TypeAlias = tuple[int, bytes, bytes, bytes, list[bytes] | None]  # see FakeEndpoint.handle
    Head: TypeAlias = tuple[str, str, bool, int | None, int, bool]
    """(method, path, keep-alive, content length or None if chunked, body start, expects 100-continue)"""

CONTENT = "\n\nHello there, how may I assist you today?"
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Headers Too Large",
}
MAX_BODY = 8 << 20
JSON_CT = b"application/json"


def _err(msg: str, typ: str = "invalid_request_error", code: str | None = None) -> dict[str, dict[str, str | None]]:
    return {"error": {"message": msg, "type": typ, "param": None, "code": code}}


def _chunk(cid: str, now: int, model: str, delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": now,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class FakeEndpoint:
    def __init__(self, delay_ms: float = 0.0, rpm_limits: Mapping[str, int] | None = None) -> None:
        self.delay = max(0.0, float(delay_ms)) / 1000.0
        self.limits = dict(rpm_limits or {})
        self.windows: dict[str, list[float]] = {}  # key -> [window start, requests in it]
        self.conns: set[asyncio.BaseTransport] = set()
        self.seq, self.in_chat = 0, False
        self.server: asyncio.Server | None = None
        self.host: str | None = None
        self.port: int | None = None
        self.reset_stats()

    def reset_stats(self) -> None:
        self.stats: Stats = {"requests": 0, "status": {}, "keys": {}, "chat": {}, "since": time.time()}

    def _count(self, status: int, key: str | None = None) -> None:
        st, s = self.stats, str(status)
        st["requests"] += 1
        st["status"][s] = st["status"].get(s, 0) + 1
        if self.in_chat:
            st["chat"][s] = st["chat"].get(s, 0) + 1
        if key is not None:
            k = st["keys"].setdefault(key, {})
            k[s] = k.get(s, 0) + 1

    def _quota(self, key: str, now: float) -> int:
        lim = self.limits.get(key, self.limits.get("*"))
        if lim is None:
            return 0
        w = self.windows.get(key)
        if w is None or now >= w[0] + 60:
            w = self.windows[key] = [now, 0]
        if w[1] >= lim:
            return max(1, int(w[0] + 60 - now + 0.999))
        w[1] += 1
        return 0

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        """Return (status, content_type, body_bytes, extra_headers, chunked_parts_or_None)."""
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if path in ("/stats", "/stats/reset"):
            if path == "/stats/reset":
                self.reset_stats()
            return 200, JSON_CT, json.dumps({**self.stats, "now": time.time()}).encode(), b"", None
        dep: str | None = None
        if path.startswith("/deployment/"):
            dep, _, path = path[12:].partition("/")
            path = "/" + path
        if path.endswith("/chat/completions"):
            if method != "POST":
                return self._out(405, _err("Use POST"), dep)
            self.in_chat = True
            try:
                return self._chat(body, dep)
            finally:
                self.in_chat = False
        if method == "GET" and path in ("/", "/health", "/health/liveliness", "/health/readiness"):
            return self._out(200, {"status": "ok"})
        if method == "GET" and path in ("/v1/models", "/models"):
            return self._out(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": "fake-openai-endpoint",
                            "object": "model",
                            "created": 1700000000,
                            "owned_by": "fake-openai-endpoint",
                        }
                    ],
                },
            )
        return self._out(404, _err(f"Unknown path {method} {path}", code="not_found"))

    def _out(self, status: int, obj: object, key: str | None = None, headers: bytes = b"") -> Reply:
        self._count(status, key)
        return status, JSON_CT, json.dumps(obj).encode(), headers, None

    def _chat(self, body: bytes, dep: str | None) -> Reply:
        try:
            req = json.loads(body or b"null")
            if not isinstance(req, dict):
                raise TypeError("expected a JSON object")
        except (ValueError, TypeError) as e:
            return self._out(400, _err(f"Invalid JSON body: {e}"), dep)
        model = str(req.get("model", "gpt-3.5-turbo"))
        key = dep if dep is not None else model
        now = time.time()
        if model == "429":
            return self._out(429, _err("Rate Limit Error", "requests", "rate_limit_exceeded"), key)
        wait = self._quota(key, now)
        if wait:
            msg = f"Rate limit reached for {key}: {self.limits.get(key, self.limits.get('*'))} RPM"
            return self._out(
                429,
                _err(msg, "requests", "rate_limit_exceeded"),
                key,
                b"retry-after: %d\r\nx-ratelimit-reset-requests: %ds\r\n" % (wait, wait),
            )
        self.seq += 1
        cid, ts = f"chatcmpl-fake{int(now):x}{self.seq:08x}", int(now)
        usage = {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}
        self._count(200, key)
        if not req.get("stream"):
            return (
                200,
                JSON_CT,
                json.dumps(
                    {
                        "id": cid,
                        "object": "chat.completion",
                        "created": ts,
                        "model": model,
                        "system_fingerprint": "fp_fake",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": CONTENT},
                                "logprobs": None,
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    }
                ).encode(),
                b"",
                None,
            )
        evs = [_chunk(cid, ts, model, {"role": "assistant", "content": ""})]
        words = CONTENT.split(" ")
        evs += [_chunk(cid, ts, model, {"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        evs.append(_chunk(cid, ts, model, {}, "stop"))
        if (req.get("stream_options") or {}).get("include_usage"):
            evs.append({**_chunk(cid, ts, model, {}), "choices": [], "usage": usage})
        parts = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in evs] + [b"data: [DONE]\n\n"]
        return 200, b"text/event-stream", b"", b"cache-control: no-cache\r\n", parts


def _response(status: int, ctype: bytes, body: bytes, extra: bytes, parts: list[bytes] | None, keep: bool) -> bytes:
    head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\n%sconnection: %s\r\n" % (
        status,
        REASONS.get(status, "OK").encode(),
        ctype,
        extra,
        b"keep-alive" if keep else b"close",
    )
    if parts is None:
        return head + b"content-length: %d\r\n\r\n" % len(body) + body
    return (
        head
        + b"transfer-encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
        + b"0\r\n\r\n"
    )


class _Proto(asyncio.Protocol):
    def __init__(self, app: FakeEndpoint) -> None:
        self.app, self.buf, self.busy, self.cont = app, bytearray(), False, False
        self.head: Head | None = None
        self.t: asyncio.Transport  # connection_made sets it; asyncio calls that first

    def connection_made(self, t: asyncio.BaseTransport) -> None:
        self.t = cast("asyncio.Transport", t)  # a stream server's transport (uvloop's too, not a subclass)
        self.app.conns.add(t)

    def connection_lost(self, exc: Exception | None) -> None:
        self.app.conns.discard(self.t)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._process()

    def _fail(self, status: int, msg: str) -> None:
        self.t.write(_response(status, JSON_CT, json.dumps(_err(msg)).encode(), b"", None, False))
        self.t.close()
        self.buf.clear()
        self.busy = True

    def _process(self) -> None:
        buf = self.buf
        while buf and not self.t.is_closing():
            if self.head is None:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    return self._fail(431, "Headers too large") if len(buf) > 65536 else None
                try:
                    lines = bytes(buf[:i]).decode("latin-1").split("\r\n")
                    method, path, ver = lines[0].split(" ", 2)
                    hd: dict[str, str] = {}
                    for ln in lines[1:]:
                        k, _, v = ln.partition(":")
                        hd[k.strip().lower()] = v.strip()
                    chunked = "chunked" in hd.get("transfer-encoding", "").lower()
                    n = None if chunked else int(hd.get("content-length") or 0)
                    if n is not None and n < 0:
                        raise ValueError
                except ValueError:
                    return self._fail(400, "Malformed request")
                if n is not None and n > MAX_BODY:
                    return self._fail(413, "Body too large")
                conn = hd.get("connection", "").lower()
                keep = ("close" not in conn) if ver == "HTTP/1.1" else ("keep-alive" in conn)
                self.head = (method, path, keep, n, i + 4, hd.get("expect", "").lower() == "100-continue")
                self.cont = False
            method, path, keep, n, start, expect = self.head
            body: bytes | None
            if n is not None:
                if len(buf) < start + n:
                    return self._continue(expect)
                body, end = bytes(buf[start : start + n]), start + n
            else:
                body, end = self._dechunk(start)
                if body is None:
                    if end == 0:
                        return self._continue(expect)
                    return self._fail(400 if end < 0 else 413, "Bad chunked body")
            del buf[:end]
            self.head = None
            resp = _response(*self.app.handle(method, path, body), keep)
            if self.app.delay:
                self.busy = True
                asyncio.get_running_loop().call_later(self.app.delay, self._send_later, resp, keep)
                return
            self.t.write(resp)
            if not keep:
                self.t.close()

    def _continue(self, expect: bool) -> None:
        if expect and not self.cont:
            self.cont = True
            self.t.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _send_later(self, resp: bytes, keep: bool) -> None:
        self.busy = False
        if self.t.is_closing():
            return
        self.t.write(resp)
        if not keep:
            return self.t.close()
        self._process()

    def _dechunk(self, pos: int) -> tuple[bytes | None, int]:
        """-> (body, end), or (None, 0) incomplete, (None, -1) malformed, (None, 1) too large."""
        buf, size = self.buf, 0
        out: list[bytes] = []
        while True:
            j = buf.find(b"\r\n", pos)
            if j < 0:
                return None, 0
            try:
                n = int(bytes(buf[pos:j]).split(b";")[0], 16)
            except ValueError:
                return None, -1
            if n == 0:
                k = buf.find(b"\r\n\r\n", j)
                return (None, 0) if k < 0 else (b"".join(out), k + 4)
            size += n
            if size > MAX_BODY:
                return None, 1
            if len(buf) < j + 4 + n:
                return None, 0
            out.append(bytes(buf[j + 2 : j + 2 + n]))
            pos = j + 4 + n


async def start_server(
    host: str = "127.0.0.1", port: int = 0, delay_ms: float = 0.0, rpm_limits: dict[str, int] | None = None
) -> FakeEndpoint:
    """Start listening; returns the FakeEndpoint (attributes .host, .port, .server, .stats)."""
    app = FakeEndpoint(delay_ms, rpm_limits)
    app.server = await asyncio.get_running_loop().create_server(
        lambda: _Proto(app), host, port, backlog=4096, reuse_address=True
    )
    app.host, app.port = app.server.sockets[0].getsockname()[:2]
    return app


async def _run(host: str, port: int, delay_ms: float, rpm_limits: dict[str, int] | None) -> None:
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    app = await start_server(host, port, delay_ms, rpm_limits)
    print(f"fake-openai-endpoint listening on http://{app.host}:{app.port}", flush=True)
    await stop.wait()
    if app.server is not None:
        app.server.close()
    for t in list(app.conns):
        t.close()
    await asyncio.sleep(0)


def serve(
    host: str = "127.0.0.1", port: int = 8080, delay_ms: float = 0.0, rpm_limits: dict[str, int] | None = None
) -> None:
    """Serve until SIGTERM/SIGINT."""
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard > 0 else 65536, hard))
    except (ImportError, ValueError, OSError):
        pass
    factory: Callable[[], asyncio.AbstractEventLoop] | None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as r:
            r.run(_run(host, port, delay_ms, rpm_limits))
    except KeyboardInterrupt:
        pass


def parse_limits(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items:
        for part in filter(None, (p.strip() for p in it.split(","))):
            k, sep, v = part.rpartition("=")
            if not sep or not k:
                raise ValueError(f"bad rpm limit {part!r} (want NAME=N)")
            out[k.strip()] = int(v)
    return out


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    delay = env.get("FAKE_DELAY_MS") or (float(env["TIME_TO_SLEEP"]) * 1000 if env.get("TIME_TO_SLEEP") else 0)
    p = argparse.ArgumentParser(
        prog="fake-endpoint", description="Fake OpenAI endpoint", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--host", default=env.get("FAKE_HOST", "127.0.0.1"), help="address to listen on (FAKE_HOST)")
    p.add_argument("--port", type=int, default=int(env.get("FAKE_PORT", 8080)), help="TCP port, 0 = any (FAKE_PORT)")
    p.add_argument(
        "--delay-ms",
        type=float,
        default=float(delay),
        help="added latency per response (FAKE_DELAY_MS, or TIME_TO_SLEEP in s)",
    )
    p.add_argument(
        "--rpm-limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help="per-minute quota for a model or /deployment/NAME key (repeatable, * = any)",
    )
    a = p.parse_args(argv)
    try:
        limits = parse_limits([env.get("FAKE_RPM_LIMITS", ""), *a.rpm_limit])
        if not 0 <= a.port <= 65535:
            raise ValueError(f"--port: {a.port} is not a TCP port; use 1-65535 (0 = any free port)")
        if a.delay_ms < 0:
            raise ValueError(f"--delay-ms: must be 0 or more (got {a.delay_ms:g})")
        if any(n < 1 for n in limits.values()):
            raise ValueError("--rpm-limit: every quota must be at least 1 request per minute")
    except ValueError as e:
        print(f"fake-endpoint: {e}", file=sys.stderr)
        return 2
    serve(a.host, a.port, a.delay_ms, limits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
