"""Contract tests for the stdlib fake OpenAI endpoint (127.0.0.1 only, every wait bounded)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "src" / "litellm_bench_cfn" / "fake_endpoint.py"
TIMEOUT = 10.0
CONTENT = "\n\nHello there, how may I assist you today?"


class Server:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_") and k != "TIME_TO_SLEEP"}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            text=True,
        )
        self.line = self._read_line()
        prefix = "fake-openai-endpoint listening on http://127.0.0.1:"
        assert self.line.startswith(prefix), self.line
        self.port = int(self.line[len(prefix) :])
        assert self.port > 0

    def _read_line(self) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(TIMEOUT):
                self.stop()
                raise AssertionError("fake endpoint did not start in time")
            line = self.proc.stdout.readline().strip()
        finally:
            sel.close()
        if not line:
            self.stop()
            raise AssertionError(f"no start line; stderr: {self.proc.stderr.read()}")
        return line

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)

    def request(self, method: str, path: str, body=None, headers=None):
        c = self.conn()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = {"Content-Type": "application/json", **(headers or {})}
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def chat(self, model: str = "m", path: str = "/v1/chat/completions", **extra):
        status, headers, raw = self.request(
            "POST", path, {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
        )
        return status, headers, json.loads(raw) if headers.get("content-type") == "application/json" else raw

    def stats(self) -> dict:
        status, _, raw = self.request("GET", "/stats")
        assert status == 200
        return json.loads(raw)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=TIMEOUT)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        return self.proc.returncode


@pytest.fixture
def make_server():
    servers: list[Server] = []

    def _make(*args: str, env: dict[str, str] | None = None) -> Server:
        servers.append(Server(*args, env=env))
        return servers[-1]

    yield _make
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def assert_completion(body: dict, model: str) -> None:
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and abs(body["created"] - time.time()) < 120
    assert body["model"] == model
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": CONTENT}
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}


def guide_payload() -> dict:
    content = f"{uuid.uuid4()} This is a test there will be no cache hits and we'll fill up the context" * 150
    return {
        "model": "fake-openai-endpoint",
        "messages": [{"role": "user", "content": content}],
        "user": "my-new-end-user-1",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions/",
        "/openai/deployments/x/chat/completions?api-version=2024-02-01",
    ],
)
def test_chat_paths_return_completion(server, path):
    status, headers, body = server.chat(model=f"model-{len(path)}", path=path)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) > 0
    assert_completion(body, f"model-{len(path)}")


def test_ids_are_unique(server):
    ids = {server.chat()[2]["id"] for _ in range(5)}
    assert len(ids) == 5


def test_keep_alive_two_requests_one_connection(server):
    c = server.conn()
    try:
        payload = json.dumps({"model": "ka", "messages": []})
        c.request("POST", "/v1/chat/completions", body=payload, headers={"Content-Type": "application/json"})
        r1 = c.getresponse()
        assert r1.status == 200 and r1.getheader("connection") == "keep-alive"
        assert_completion(json.loads(r1.read()), "ka")
        sock = c.sock
        assert sock is not None
        c.request("POST", "/chat/completions", body=payload)
        r2 = c.getresponse()
        assert r2.status == 200
        assert_completion(json.loads(r2.read()), "ka")
        assert c.sock is sock
    finally:
        c.close()


def test_connection_close_honoured(server):
    status, headers, _ = server.request("GET", "/health", headers={"Connection": "close"})
    assert status == 200 and headers["connection"] == "close"


def test_guide_payload_16kb(server):
    payload = guide_payload()
    assert len(json.dumps(payload)) > 15000
    status, _, raw = server.request("POST", "/v1/chat/completions", payload)
    assert status == 200
    assert_completion(json.loads(raw), "fake-openai-endpoint")


def test_chunked_request_body(server):
    data = json.dumps(guide_payload()).encode()
    parts = [data[i : i + 4000] for i in range(0, len(data), 4000)]
    c = server.conn()
    try:
        c.request(
            "POST",
            "/v1/chat/completions",
            body=iter(parts),
            encode_chunked=True,
            headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        )
        r = c.getresponse()
        assert r.status == 200
        assert_completion(json.loads(r.read()), "fake-openai-endpoint")
        c.request("GET", "/health")  # the connection is still usable after a chunked body
        assert c.getresponse().status == 200
    finally:
        c.close()


def test_large_body_3mb(server):
    body = {"model": "big", "messages": [{"role": "user", "content": "x" * 3_000_000}]}
    status, _, raw = server.request("POST", "/v1/chat/completions", body)
    assert status == 200
    assert_completion(json.loads(raw), "big")


def test_expect_100_continue(server):
    c = server.conn()
    try:
        c.connect()
        body = json.dumps({"model": "e", "messages": []}).encode()
        c.sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        assert c.sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        c.sock.sendall(body)
        r = http.client.HTTPResponse(c.sock)
        r.begin()
        assert r.status == 200
        assert_completion(json.loads(r.read()), "e")
    finally:
        c.close()


def read_sse(raw: bytes) -> list[str]:
    text = raw.decode()
    assert text.endswith("\n\n")
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    return [e[len("data: ") :] for e in events]


@pytest.mark.parametrize("include_usage", [False, True])
def test_stream_sse(server, include_usage):
    extra = {"stream": True}
    if include_usage:
        extra["stream_options"] = {"include_usage": True}
    c = server.conn()
    try:
        c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "s", "messages": [], **extra}))
        r = c.getresponse()
        assert r.status == 200
        assert r.getheader("content-type") == "text/event-stream"
        assert r.getheader("transfer-encoding") == "chunked"
        events = read_sse(r.read())
        c.request("GET", "/health")  # keep-alive survives a stream
        assert c.getresponse().status == 200
    finally:
        c.close()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len({ch["id"] for ch in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert all(ch["object"] == "chat.completion.chunk" and ch["model"] == "s" for ch in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    usage = [ch for ch in chunks if not ch["choices"]]
    if include_usage:
        assert len(usage) == 1 and usage[0]["usage"]["total_tokens"] == 21 and chunks[-1] is usage[0]
    else:
        assert not usage
    with_choices = [ch for ch in chunks if ch["choices"]]
    assert "".join(ch["choices"][0]["delta"].get("content") or "" for ch in with_choices) == CONTENT
    assert len(with_choices) >= 8  # word by word
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop"


def test_health_models_and_errors(server):
    for path in ("/health", "/", "/health/"):
        status, headers, raw = server.request("GET", path)
        assert status == 200 and headers["content-type"] == "application/json"
        assert json.loads(raw)["status"] == "ok"
    status, _, raw = server.request("GET", "/v1/models")
    models = json.loads(raw)
    assert status == 200 and models["object"] == "list" and len(models["data"]) == 1
    assert models["data"][0]["object"] == "model"

    status, headers, raw = server.request("GET", "/nope")
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(raw)["error"]["message"]

    status, _, raw = server.request("GET", "/v1/chat/completions")
    assert status == 405 and "error" in json.loads(raw)

    for bad in (b"{not json", b"[1, 2]", b""):
        status, headers, raw = server.request("POST", "/v1/chat/completions", body=bad)
        assert status == 400 and headers["content-type"] == "application/json"
        err = json.loads(raw)["error"]
        assert err["type"] == "invalid_request_error" and err["message"] and "code" in err


def test_malformed_request_line(server):
    c = server.conn()
    try:
        c.connect()
        c.sock.sendall(b"garbage\r\n\r\n")
        r = http.client.HTTPResponse(c.sock)
        r.begin()
        assert r.status == 400
    finally:
        c.close()


def test_model_429_always_rate_limited(server):
    for _ in range(2):
        status, headers, body = server.chat(model="429")
        assert status == 429 and headers["content-type"] == "application/json"
        assert body["error"]["code"] == "rate_limit_exceeded"


def test_delay_honoured(make_server):
    s = make_server("--delay-ms", "300")
    t0 = time.monotonic()
    status, _, body = s.chat(model="slow")
    elapsed = time.monotonic() - t0
    assert status == 200 and elapsed >= 0.3 and elapsed < TIMEOUT
    assert_completion(body, "slow")
    # the delay applies to each request on a kept-alive connection, streams included
    c = s.conn()
    try:
        t0 = time.monotonic()
        for stream in (False, True):
            c.request("POST", "/chat/completions", body=json.dumps({"model": "k", "stream": stream}))
            r = c.getresponse()
            assert r.status == 200
            r.read()
        assert time.monotonic() - t0 >= 0.6
    finally:
        c.close()


def test_delay_env_and_flag_precedence(make_server):
    s = make_server(env={"TIME_TO_SLEEP": "0.25"})
    t0 = time.monotonic()
    assert s.chat()[0] == 200
    assert time.monotonic() - t0 >= 0.25
    s = make_server("--delay-ms", "0", env={"FAKE_DELAY_MS": "5000"})
    t0 = time.monotonic()
    assert s.chat()[0] == 200
    assert time.monotonic() - t0 < 4


def test_rpm_limit_exactly_n_then_429(make_server):
    s = make_server("--rpm-limit", "limited=3")
    statuses = [s.chat(model="limited")[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, headers, body = s.chat(model="limited")
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60
    assert body["error"]["code"] == "rate_limit_exceeded" and body["error"]["type"] == "requests"
    assert s.chat(model="limited", stream=True)[0] == 429
    assert [s.chat(model="other")[0] for _ in range(5)] == [200] * 5  # other models unlimited
    st = s.stats()
    assert st["keys"]["limited"] == {"200": 3, "429": 2}


def test_deployment_prefixed_quotas_are_independent(make_server):
    s = make_server("--rpm-limit", "d1=2", "--rpm-limit", "d2=3", env={"FAKE_RPM_LIMITS": "m=1,d1=50"})

    def run(dep: str, n: int) -> list[int]:
        return [s.chat(model="m", path=f"/deployment/{dep}/v1/chat/completions")[0] for _ in range(n)]

    assert run("d1", 4) == [200, 200, 429, 429]  # the flag wins over FAKE_RPM_LIMITS
    assert run("d2", 5) == [200, 200, 200, 429, 429]
    assert s.chat(model="m", path="/deployment/d2/chat/completions")[0] == 429  # no /v1 too
    assert run("d3", 3) == [200] * 3  # no quota for d3
    assert [s.chat(model="m")[0] for _ in range(2)] == [200, 429]  # model key from the env var
    st = s.stats()
    assert st["keys"]["d1"] == {"200": 2, "429": 2}
    assert st["keys"]["d2"] == {"200": 3, "429": 3}
    assert st["keys"]["d3"] == {"200": 3}
    assert st["keys"]["m"] == {"200": 1, "429": 1}


def test_wildcard_quota(make_server):
    s = make_server("--rpm-limit", "*=1")
    assert [s.chat(model="a")[0], s.chat(model="a")[0], s.chat(model="b")[0]] == [200, 429, 200]


def test_stats_counters(make_server):
    s = make_server()
    for _ in range(4):
        s.chat(model="x")
    s.chat(model="y", path="/deployment/dep/chat/completions")
    s.chat(model="429")
    s.request("GET", "/nope")
    s.request("POST", "/chat/completions", body=b"{bad")
    s.request("GET", "/health")
    st = s.stats()
    assert st["requests"] == 9
    assert st["status"] == {"200": 6, "429": 1, "404": 1, "400": 1}
    assert st["keys"] == {"x": {"200": 4}, "dep": {"200": 1}, "429": {"429": 1}}
    assert st["now"] >= st["since"]
    assert s.stats()["requests"] == 9  # /stats itself is not counted
    status, _, raw = s.request("POST", "/stats/reset")
    assert status == 200 and json.loads(raw)["requests"] == 0
    assert s.stats()["requests"] == 0


def test_many_concurrent_keepalive_connections(server):
    n_conns, per_conn = 300, 3
    body = json.dumps(guide_payload()).encode()
    req = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    async def one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        ok = 0
        try:
            for _ in range(per_conn):
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                data = await reader.readexactly(length)
                ok += head.startswith(b"HTTP/1.1 200") and json.loads(data)["object"] == "chat.completion"
        finally:
            writer.close()
        return ok

    async def run() -> list[int]:
        return await asyncio.wait_for(asyncio.gather(*[one() for _ in range(n_conns)]), TIMEOUT * 3)

    assert sum(asyncio.run(run())) == n_conns * per_conn


def test_sigterm_stops_server_with_open_connection(make_server):
    s = make_server()
    c = s.conn()
    try:
        c.request("GET", "/health")
        assert c.getresponse().read()
        t0 = time.monotonic()
        os.kill(s.proc.pid, signal.SIGTERM)
        assert s.proc.wait(timeout=TIMEOUT) == 0
        assert time.monotonic() - t0 < 5
    finally:
        c.close()


def test_sigint_stops_server(make_server):
    s = make_server()
    os.kill(s.proc.pid, signal.SIGINT)
    assert s.proc.wait(timeout=TIMEOUT) == 0


def test_bad_rpm_limit_flag_exits_2():
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--port", "0", "--rpm-limit", "nonsense"],
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert r.returncode == 2 and "NAME=N" in r.stderr


def test_in_process_start_server():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import fake_endpoint  # the file is standalone: importable without the package
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert fake_endpoint.parse_limits(["a=1,b=2", "c=3"]) == {"a": 1, "b": 2, "c": 3}

    async def run():
        app = await fake_endpoint.start_server("127.0.0.1", 0, rpm_limits={"q": 1})
        try:
            assert app.port > 0

            def client():
                c = http.client.HTTPConnection("127.0.0.1", app.port, timeout=TIMEOUT)
                try:
                    out = []
                    for _ in range(2):
                        c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "q"}))
                        r = c.getresponse()
                        out.append((r.status, json.loads(r.read())))
                    return out
                finally:
                    c.close()

            out = await asyncio.wait_for(asyncio.to_thread(client), TIMEOUT)
            assert [s for s, _ in out] == [200, 429]
            assert_completion(out[0][1], "q")
            assert app.stats["keys"]["q"] == {"200": 1, "429": 1}
        finally:
            app.server.close()
            for t in list(app.conns):
                t.close()

    asyncio.run(run())


def test_official_openai_client(server):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{server.port}/v1", api_key="test", max_retries=0, timeout=TIMEOUT
    )
    r = client.chat.completions.create(model="oa", messages=[{"role": "user", "content": "hi"}])
    assert r.model == "oa" and r.choices[0].message.content == CONTENT and r.usage.total_tokens == 21
    stream = client.chat.completions.create(model="oa", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == CONTENT
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="429", messages=[{"role": "user", "content": "hi"}])
    assert [m.id for m in client.models.list()] == ["fake-openai-endpoint"]


def test_chat_counters_leave_out_everything_but_chat_completions(make_server):
    """The proxy's own start-up calls (/v1/models) and health probes must not count as benchmark requests."""
    s = make_server()
    s.request("GET", "/v1/models")
    s.request("GET", "/health")
    s.request("GET", "/nope")
    for _ in range(3):
        s.chat(model="x")
    s.chat(model="429")
    s.request("POST", "/chat/completions", body=b"{bad")
    st = s.stats()
    assert st["status"]["200"] == 5  # 3 chats + /v1/models + /health
    assert st["chat"] == {"200": 3, "429": 1, "400": 1}
