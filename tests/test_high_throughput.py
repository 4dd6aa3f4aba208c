"""The high-throughput load (loadtest/high_throughput.py) and `bench local --scenario high-throughput`.

Locust runs as a subprocess (never imported here: it monkey-patches the interpreter with gevent)
against a recording stub on 127.0.0.1 that answers JSON, or SSE when the request streams. The
prompts it received are counted with tiktoken's cl100k_base (LiteLLM's default tokenizer, read
from the copy LiteLLM bundles: no network). Every run is time-bounded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.benchproc import run_bench_local
from tests.conftest import require_modules
from tests.loopback_http import LoopbackHttpServer, StubHandler

require_modules("locust", "tiktoken", "litellm")
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtest" / "high_throughput.py"
PROMPT_SIZES = (50_000, 75_000, 100_000)
TOKEN_TOLERANCE = 10
"""A fresh uuid is 21-29 tokens: the body assumes 24, so a prompt is within a few tokens of its size."""
TTFT_DELAY_S = 0.05
"""The stub waits this long before the first content chunk, so TTFT is measurably above zero."""
HARD_TIMEOUT_S = 90


def cl100k() -> Any:
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    os.environ.setdefault(
        "TIKTOKEN_CACHE_DIR", str(Path(spec.submodule_search_locations[0]) / "litellm_core_utils" / "tokenizers")
    )
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


class RecordingStub:
    """Records every request body; answers chat.completion JSON, or SSE chunks for stream: true."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: list[dict[str, Any]] = []
        self.paths: Counter[str] = Counter()
        self.auth: set[str] = set()
        stub = self

        class Handler(StubHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.loads(raw)
                with stub.lock:
                    stub.bodies.append(body)
                    stub.paths[self.path] += 1
                    stub.auth.add(self.headers.get("authorization") or "")
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.send_header("x-litellm-overhead-duration-ms", "2.5")
                    self.end_headers()
                    time.sleep(TTFT_DELAY_S)
                    for delta in ({"role": "assistant", "content": "Hello"}, {"content": " there"}, {}):
                        event = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
                        self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                    return
                completion = {
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}}],
                }
                self.send_json(200, completion, {"x-litellm-overhead-duration-ms": "2.5"})

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.http = LoopbackHttpServer(Handler, request_queue_size=64)
        self.url = self.http.url

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def stub() -> Any:
    server = RecordingStub()
    yield server
    server.close()


def run_high_throughput(tmp_path: Path, host: str, users: int, seconds: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LITELLM_")) and k != "API_KEY"}
    env.update(
        HOME=str(tmp_path),
        LITELLM_MASTER_KEY="sk-test-master",
        LITELLM_TTFT_JSON=str(tmp_path / "ttft.json"),
        LITELLM_OVERHEAD_JSON=str(tmp_path / "overhead.json"),
    )
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
        "-t", f"{seconds}s", "-H", host, "--json-file", str(tmp_path / "stats"), "--only-summary",
        "--stop-timeout", "30",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=HARD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        pytest.fail("locust did not stop in time")
    assert proc.returncode == 0, out[-3000:]
    return {
        "output": out,
        "stats": json.loads((tmp_path / "stats.json").read_text()),
        "ttft": json.loads((tmp_path / "ttft.json").read_text()),
        "overhead": json.loads((tmp_path / "overhead.json").read_text()),
    }


def test_load_has_the_published_shape_and_ttft_is_its_own_metric(tmp_path: Path, stub: RecordingStub) -> None:
    users, seconds = 4, 12
    result = run_high_throughput(tmp_path, stub.url, users, seconds)
    bodies = stub.bodies
    sent = sum(int(entry["num_requests"]) for entry in result["stats"])

    # one request per second per user (constant_throughput(1)), all to /v1/chat/completions
    assert users * (seconds - 3) <= len(bodies) <= users * (seconds + 1), len(bodies)
    assert set(stub.paths) == {"/v1/chat/completions"}
    assert stub.auth == {"Bearer sk-test-master"}

    encoding = cl100k()
    sizes: Counter[int] = Counter()
    prefixes = set()
    for body in bodies:
        assert body["max_tokens"] == 16
        assert body["model"] == "fake-openai-endpoint"
        content = body["messages"][0]["content"]
        prefixes.add(content[:36])
        tokens = len(encoding.encode(content))
        size = min(PROMPT_SIZES, key=lambda s: abs(s - tokens))
        assert abs(tokens - size) <= TOKEN_TOLERANCE, (tokens, size)
        sizes[size] += 1
    assert len(prefixes) == len(bodies), "every prompt starts with its own uuid (uncacheable)"
    assert set(sizes) == set(PROMPT_SIZES), sizes  # equal shares: each size shows up

    streamed = sum(1 for body in bodies if body.get("stream") is True)
    assert 0.2 * len(bodies) <= streamed <= 0.8 * len(bodies), (streamed, len(bodies))

    # TTFT: one sample per streamed request, in its own JSON, and never a Locust request
    ttft = result["ttft"]
    assert ttft["metric"] == "TTFT" and ttft["count"] == streamed
    assert ttft["p50"] >= TTFT_DELAY_S * 1000 * 0.8
    assert sent == len(bodies), "Locust counts exactly the requests the stub received: no TTFT rows"
    assert all("TTFT" not in (entry["name"] + entry["method"]) for entry in result["stats"])
    streamed_entries = [entry for entry in result["stats"] if entry["name"].endswith("stream")]
    assert sum(int(entry["num_requests"]) for entry in streamed_entries) == streamed
    # the streamed request's time runs to the end of the stream, so it is at least the TTFT
    slowest_streamed = max(int(entry["max_response_time"]) for entry in streamed_entries)
    assert slowest_streamed >= TTFT_DELAY_S * 1000 * 0.8
    assert "Time to first token" in result["output"]
    assert result["overhead"]["count"] == len(bodies)


@pytest.mark.parametrize("upstream", ["mock", "fake-endpoint"])
def test_bench_local_high_throughput_reports_ttft_apart_from_the_requests(tmp_path: Path, upstream: str) -> None:
    """The real proxy from the benchmark template, 4 users at 1 req/s for 15 s, with each model behind it."""
    result, report = run_bench_local(
        tmp_path, "--scenario", "high-throughput", "--upstream", upstream, "--users", "4", "--duration", "15"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    load = report["proxy"]["load"]
    assert load["requests"] > 0 and load["failures"] == 0
    stats = json.loads(next(tmp_path.glob("local-*/proxy_stats.json")).read_text())
    assert load["requests"] == sum(int(entry["num_requests"]) for entry in stats)
    assert all("TTFT" not in entry["name"] + entry["method"] for entry in stats)
    streamed = sum(int(entry["num_requests"]) for entry in stats if entry["name"].endswith("stream"))
    ht = report["high_throughput"]
    assert ht["upstream"] == upstream and report["options"]["upstream"] == upstream
    assert ht["ttft_ms"]["count"] == streamed > 0
    assert ht["ttft_ms"]["p50"] > 0 and ht["ttft_ms"]["p95"] >= ht["ttft_ms"]["p50"]
    assert ht["rps_per_worker"] > 0 and ht["proxy_cpu_ms_per_request"] > 0
    assert ht["published"]["ttft_p50_ms"] == 31.7
    assert "TTFT of streamed requests (own metric, not counted as requests)" in result.stdout
    assert report["baseline"] is None
    if upstream == "fake-endpoint":  # every success was one upstream call
        assert report["accounting"]["balanced"] and report["accounting"]["upstream_200"] == load["requests"]
    else:  # the in-process mock: nothing reaches the fake endpoint
        assert report["proxy"]["upstream"]["requests"] == 0


def test_upstream_flag_belongs_to_the_high_throughput_scenario(tmp_path: Path) -> None:
    result, _ = run_bench_local(tmp_path, "--upstream", "mock")
    assert result.returncode == 2
    assert result.stderr.strip() == "--upstream: only the high-throughput scenario takes it"
