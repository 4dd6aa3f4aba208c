"""Tests for loadtest/locustfile.py: Locust runs as a subprocess against an in-process stub.

Only 127.0.0.1 is used; every Locust run is time-bounded (-t, plus a hard timeout after which
the process group we started is killed by its id). The locustfile is never imported here:
importing locust monkey-patches the interpreter with gevent, which would break the stub's threads.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from .loopback_http import LoopbackHttpServer, StubHandler

pytestmark = pytest.mark.e2e  # starts real Locust processes

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
SENTENCE = "This is a test there will be no cache hits and we'll fill up the context"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HARD_TIMEOUT = 40  # seconds, per Locust process


def _locust_cmd() -> list[str]:
    if importlib.util.find_spec("locust") is not None:  # does not import it
        return [sys.executable, "-m", "locust"]
    venv = ROOT / ".venv" / "bin" / "locust"
    if venv.exists():
        return [str(venv)]
    pytest.skip("locust is not installed")


# ------------------------------------------------------------------------------------------
# Stub LiteLLM proxy
# ------------------------------------------------------------------------------------------


class Stub:
    """Answers POST /chat/completions like LiteLLM: chat.completion JSON + overhead header.

    fail_every=N: every Nth request gets 500 with FAIL_BODY.
    no_header_every=N: every Nth request (offset 1) gets 200 without the overhead header.
    hang_first=N: the first N requests get no answer for HANG_S (a proxy queue the client gives up on).
    """

    HANG_S = 30

    FAIL_BODY = '{"error": {"message": "upstream exploded", "type": "stub"}}' + " " + "x" * 600

    def __init__(self, fail_every: int = 0, no_header_every: int = 0, hang_first: int = 0) -> None:
        self.fail_every = fail_every
        self.hang_first = hang_first
        self.no_header_every = no_header_every
        self.lock = threading.Lock()
        self.count = 0
        self.status = Counter()
        self.ok_without_header = 0
        self.paths = Counter()
        self.last_body: bytes | None = None
        self.last_auth: str | None = None
        stub = self

        class Handler(StubHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with stub.lock:
                    stub.count += 1
                    n = stub.count
                    stub.paths[self.path] += 1
                    stub.last_body = body
                    stub.last_auth = self.headers.get("authorization")
                    header = True
                    if self.path != "/chat/completions":
                        code, out = 404, b'{"detail": "Not Found"}'
                    elif stub.fail_every and n % stub.fail_every == 0:
                        code, out = 500, stub.FAIL_BODY.encode()
                    else:
                        code = 200
                        out = json.dumps(
                            {
                                "id": f"chatcmpl-{n}",
                                "object": "chat.completion",
                                "created": int(time.time()),
                                "model": "fake",
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": "Hello there"},
                                        "finish_reason": "stop",
                                    }
                                ],
                                "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
                            }
                        ).encode()
                        if stub.no_header_every and n % stub.no_header_every == 1:
                            header = False
                            stub.ok_without_header += 1
                    stub.status[code] += 1
                if n <= stub.hang_first:
                    time.sleep(stub.HANG_S)
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                if code == 200 and header:
                    self.send_header("x-litellm-overhead-duration-ms", "3.5")
                self.end_headers()
                self.wfile.write(out)

        self.http = LoopbackHttpServer(Handler, request_queue_size=256)  # 20+ users connect at once
        self.port = self.http.port
        self.url = self.http.url  # no trailing slash, on purpose

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def stub_factory():
    stubs: list[Stub] = []

    def make(**kwargs) -> Stub:
        stub = Stub(**kwargs)
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.close()


# ------------------------------------------------------------------------------------------
# Running Locust
# ------------------------------------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCUST_", "LITELLM_")) and k not in ("API_KEY", "PYTEST_ADDOPTS")
    }
    env["HOME"] = str(tmp_path)  # no ~/.locust.conf; cwd is tmp_path too (no locust.conf)
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group we created (start_new_session)
    proc.wait(timeout=10)


def _start(args: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*_locust_cmd(), "-f", str(LOCUSTFILE), *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_locust(args: list[str], tmp_path: Path, env: dict[str, str], timeout: float = HARD_TIMEOUT):
    proc = _start(args, tmp_path, env)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, _ = proc.communicate()
        pytest.fail(f"locust did not finish within {timeout}s:\n{out[-4000:]}")
    finally:
        _kill(proc)
    return proc.returncode, out


def headless(host: str, users: int = 20, seconds: int = 3, *extra: str) -> list[str]:
    # --stop-timeout lets in-flight requests finish, so Locust's count equals the stub's.
    return [*f"--headless -u {users} -r {users} -t {seconds}s --stop-timeout 5".split(), "-H", host, *extra]


def _entries(json_file: Path) -> list[dict]:
    return json.loads(json_file.read_text())


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


def test_headless_run_body_key_counts_and_overhead(tmp_path, stub_factory):
    stub = stub_factory()
    overhead = tmp_path / "overhead.json"
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test-key-123", LITELLM_OVERHEAD_JSON=str(overhead))
    # host WITHOUT trailing slash: FastHttpUser would build http://127.0.0.1:PORTchat/completions
    code, out = run_locust(headless(stub.url, 20, 3, "--json-file", str(tmp_path / "stats")), tmp_path, env)
    assert code == 0, out

    assert stub.count > 20, out
    assert stub.paths == Counter({"/chat/completions": stub.count})  # relative path, host fixed
    assert stub.last_auth == "Bearer sk-test-key-123"

    body = json.loads(stub.last_body)
    assert body["model"] == "fake-openai-endpoint"
    assert body["user"] == "my-new-end-user-1"
    assert len(body["messages"]) == 1 and body["messages"][0]["role"] == "user"
    content = body["messages"][0]["content"]
    assert UUID_RE.match(content[:36]), content[:40]
    assert content.count(SENTENCE) == 150
    assert content == f"{content[:36]} {SENTENCE}" * 150  # the guide's f-string * 150
    assert 15_000 < len(stub.last_body) < 18_000  # ~16 KB

    # Locust's request stats: only the POST entry, counting exactly what the stub received
    entries = _entries(tmp_path / "stats.json")
    assert [(e["method"], e["name"]) for e in entries] == [("POST", "chat/completions")]
    assert sum(e["num_requests"] for e in entries) == stub.count
    assert sum(e["num_failures"] for e in entries) == 0
    assert "overhead" not in json.dumps(entries).lower()

    summary = json.loads(overhead.read_text())
    assert summary["count"] == stub.status[200] == stub.count
    assert summary["p50"] == 3.5
    for key in ("min", "max", "avg", "p90", "p95", "p99"):
        assert summary[key] == 3.5, key
    assert summary["header_missing"] == 0
    assert summary["histogram"] == [[3.5, stub.count]]  # the distribution the HTML report draws
    assert "LiteLLM overhead" in out  # printed at the end


def test_failures_carry_response_text_and_missing_header_is_not_a_failure(tmp_path, stub_factory):
    stub = stub_factory(fail_every=4, no_header_every=5)
    errors = tmp_path / "errors.txt"
    overhead = tmp_path / "overhead.json"
    env = _env(
        tmp_path,
        LITELLM_MASTER_KEY="sk-test",
        LITELLM_MODEL="my-model",
        LOCUST_ERROR_FILE=str(errors),
        LITELLM_OVERHEAD_JSON=str(overhead),
        LOCUST_MAX_FAIL_RATIO="0.5",  # 25% fail: under the limit -> exit 0 (Locust alone says 1)
    )
    code, out = run_locust(headless(stub.url, 20, 3, "--csv", str(tmp_path / "run")), tmp_path, env)
    assert code == 0, out
    assert json.loads(stub.last_body)["model"] == "my-model"
    assert stub.status[500] > 0 and stub.ok_without_header > 0, stub.status

    expected = "500: " + " ".join(Stub.FAIL_BODY.split())[:300]
    # Locust's failure table (printed report and failures CSV)
    assert expected in out
    with open(tmp_path / "run_failures.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and expected in rows[0]["Error"], rows  # CSV shows CatchResponseError('...')
    # error file: one line per failed request, full text
    lines = errors.read_text().splitlines()
    assert len(lines) == stub.status[500]
    assert all(line.startswith("500: ") and "upstream exploded" in line for line in lines)

    summary = json.loads(overhead.read_text())
    assert summary["header_missing"] == stub.ok_without_header
    assert summary["count"] == stub.status[200] - stub.ok_without_header
    assert summary["p50"] == 3.5
    with open(tmp_path / "run_stats.csv", newline="") as fh:
        names = [r["Name"] for r in csv.DictReader(fh)]
    assert names == ["chat/completions", "Aggregated"]


def test_users_that_never_got_an_answer_are_reported_as_starved(tmp_path, stub_factory):
    """The average hides them: 3 of 10 users wait on requests that never return, the others succeed."""
    stub = stub_factory(hang_first=3)
    users_json = tmp_path / "users.json"
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test", LOCUST_USERS_JSON=str(users_json))
    args = ["--headless", "-u", "10", "-r", "100", "-t", "3s", "--stop-timeout", "1", "-H", stub.url]
    _, out = run_locust(args, tmp_path, env)
    users = json.loads(users_json.read_text())
    assert users["users"] == 10, out
    assert users["starved_users"] == 3 and users["starved_never_answered"] == 3
    assert users["unfinished"] == 3 and users["ok"] == stub.status[200] - 3 > 0
    assert users["min_ok_per_user"] == 0


def test_max_fail_ratio_exceeded_exits_1(tmp_path, stub_factory):
    stub = stub_factory(fail_every=2)
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test", LOCUST_MAX_FAIL_RATIO="0.1")
    code, out = run_locust(headless(stub.url, 10, 2), tmp_path, env)
    assert code == 1, out
    assert "exceeds LOCUST_MAX_FAIL_RATIO" in out


def test_missing_key_exits_at_start(tmp_path, stub_factory):
    stub = stub_factory()
    code, out = run_locust(headless(stub.url, 5, 2), tmp_path, _env(tmp_path), timeout=20)
    assert code != 0, out
    assert "LITELLM_MASTER_KEY" in out
    assert stub.count == 0


def test_zero_requests_fails_loudly(tmp_path, stub_factory):
    # a host from which no request can be built: nothing is ever sent
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test")
    code, out = run_locust(headless("http://127.0.0.1:notaport", 5, 2), tmp_path, env)
    assert code == 1, out
    assert "NO REQUESTS WERE SENT" in out


def test_closed_port_fails_loudly(tmp_path):
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test", LOCUST_MAX_FAIL_RATIO="1")
    code, out = run_locust(headless(f"http://127.0.0.1:{_free_port()}", 5, 2), tmp_path, env)
    assert code == 1, out  # even with a fail-ratio limit of 100%
    assert "EVERY REQUEST FAILED" in out
    assert "ConnectionRefusedError" in out


def test_distributed_processes_merge_overhead(tmp_path, stub_factory):
    stub = stub_factory(no_header_every=7)
    overhead = tmp_path / "overhead.json"
    users_json = tmp_path / "users.json"
    env = _env(
        tmp_path, API_KEY="sk-from-api-key", LITELLM_OVERHEAD_JSON=str(overhead), LOCUST_USERS_JSON=str(users_json)
    )
    port = str(_free_port())  # master on 127.0.0.1 only, not Locust's default *:5557
    master = f"--master-bind-host 127.0.0.1 --master-bind-port {port} --master-host 127.0.0.1 --master-port {port}"
    args = headless(stub.url, 20, 4, "--processes", "2", "--json-file", str(tmp_path / "stats"), *master.split())
    code, out = run_locust(args, tmp_path, env)
    assert code == 0, out
    assert stub.last_auth == "Bearer sk-from-api-key"  # the guide's API_KEY as fallback
    assert out.count("Got quit message from master") == 2  # two workers really ran
    entries = _entries(tmp_path / "stats.json")
    assert [(e["method"], e["name"]) for e in entries] == [("POST", "chat/completions")]
    assert sum(e["num_requests"] for e in entries) == stub.count
    summary = json.loads(overhead.read_text())
    assert summary["count"] + summary["header_missing"] == stub.status[200] == stub.count
    assert summary["header_missing"] == stub.ok_without_header > 0
    assert summary["p50"] == 3.5
    users = json.loads(users_json.read_text())  # merged from both workers
    assert users["users"] == 20 and users["starved_users"] == 0 and users["ok"] == stub.count


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def test_web_ui_shows_overhead(tmp_path, stub_factory):
    stub = stub_factory()
    port = _free_port()
    env = _env(tmp_path, LITELLM_MASTER_KEY="sk-test")
    args = f"--web-host 127.0.0.1 --web-port {port} -H {stub.url} --autostart -u 10 -r 10 -t 4s --autoquit 1".split()
    args += ["--stop-timeout", "5"]
    proc = _start(args, tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        data = None
        while time.monotonic() < deadline:
            try:
                data = json.loads(_get(f"{base}/litellm-overhead"))
                if data["overhead"]["count"] > 0:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert data and data["overhead"]["count"] > 0 and data["overhead"]["p50"] == 3.5, data
        stats = json.loads(_get(f"{base}/stats/requests"))
        assert [s["name"] for s in stats["stats"]] == ["chat/completions", "Aggregated"]
        (tab,) = stats["extended_stats"]
        assert tab["key"] == "litellm-overhead" and tab["data"][0]["p50"] == 3.5
        index = _get(f"{base}/")
        assert '"extended_tabs"' in index and "LiteLLM overhead" in index
        assert "/litellm-overhead" in _get(f"{base}/litellm-overhead/ui")
        out, _ = proc.communicate(timeout=HARD_TIMEOUT)
        assert proc.returncode == 0, out
    finally:
        _kill(proc)
