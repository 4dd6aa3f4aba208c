"""Locust load for LiteLLM's high-throughput benchmark (docs "benchmarks", the 3,000 RPS profile).

The published shape, per user: one request per second (``constant_throughput(1)``), POST
``v1/chat/completions`` with a prompt of 50K, 75K or 100K tokens in equal shares (a uuid first,
so nothing is cacheable), half of the requests streamed, ``max_tokens: 16``, a 60 s client
timeout. 3,000 users give 3,000 RPS; on this machine a handful of users give a handful.

Token counts are real: the prompt is a uuid followed by a sentence of a known number of
cl100k_base tokens (LiteLLM's default tokenizer) repeated, then single-token padding words to the
exact size; tests/test_high_throughput.py checks every size with tiktoken. The text is built once
per process (no tokenizer at run time: the Locust image has none).

Time to first token (TTFT) of streamed requests is its OWN metric, never a request: it is kept in
a histogram of its own (as the guide's locustfile keeps the overhead header), not fired through
``events.request``, so it is neither in the RPS nor in the "Aggregated" row. It is measured from
just before the request is sent to the first SSE event that carries a content delta; the
streamed request's own response time runs until the stream ends (``[DONE]``). Workers send TTFT
samples to the master like the overhead samples; the master (or single process) prints them at
the end and writes them to ``LITELLM_TTFT_JSON`` if set. Everything else (master key check,
overhead header metric, exit codes, failure file, web UI tab) is the guide locustfile's own,
imported from ``locustfile.py`` next to this file.

Key: ``LITELLM_API_KEY`` if set (on AWS a virtual key with a budget, so key auth and budget
checks run), else the guide's ``LITELLM_MASTER_KEY`` / ``API_KEY`` (locally, with no database,
only the master key exists).

Environment: as locustfile.py, plus LITELLM_API_KEY, LITELLM_TTFT_JSON, HT_STREAM_SHARE (0.5).

    locust -f loadtest/high_throughput.py --headless -u 3000 -r 100 -t 24m -H https://ALB/
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from locust import FastHttpUser, constant_throughput, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
import locustfile as guide  # the guide's locustfile: its listeners and overhead metric come with it

if TYPE_CHECKING:
    from locust.contrib.fasthttp import ResponseContextManager
    from locust.env import Environment

PROMPT_TOKENS = (50_000, 75_000, 100_000)
"""The published prompt sizes, in equal shares."""
SENTENCE = " This is a test there will be no cache hits and we'll fill up the context."
SENTENCE_TOKENS = 18
"""cl100k_base tokens in SENTENCE, also when repeated (checked by tests/test_high_throughput.py)."""
PAD_WORD = " hello"
"""One cl100k_base token, also when repeated."""
UUID_TOKENS = 24
"""Typical cl100k_base tokens of str(uuid4()) (21-29): the body makes up the rest."""
MAX_TOKENS = 16
STREAM_SHARE = float(os.getenv("HT_STREAM_SHARE") or 0.5)
CLIENT_TIMEOUT_S = 60.0
PATH = "v1/chat/completions"
TTFT_NAME = "TTFT"
TTFT_REPORT_KEY = "litellm_ttft"


def prompt_body(tokens: int) -> str:
    """Text of `tokens - UUID_TOKENS` cl100k_base tokens, to follow a uuid."""
    body_tokens = tokens - UUID_TOKENS
    sentences, pad = divmod(body_tokens, SENTENCE_TOKENS)
    return SENTENCE * sentences + PAD_WORD * pad


BODIES = {tokens: prompt_body(tokens) for tokens in PROMPT_TOKENS}


def build_request(prompt_tokens: int, stream: bool, model: str = guide.MODEL) -> dict[str, Any]:
    """One request of the published shape (a fresh uuid first: uncacheable)."""
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": f"{uuid.uuid4()}{BODIES[prompt_tokens]}"}],
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        payload["stream"] = True
    return payload


def api_key() -> str | None:
    return os.getenv("LITELLM_API_KEY") or guide.master_key()


class TimingStats(guide.OverheadStats):
    """The overhead metric's histogram (fine buckets, mergeable), for a measured duration."""

    def log(self, value_ms: float) -> None:
        self.log_header(repr(value_ms))

    def summary(self) -> dict[str, Any]:
        result = super().summary()
        result.pop("header")
        result["metric"] = TTFT_NAME
        return result

    def table(self) -> list[str]:
        s = self.summary()

        def f(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f}"

        cols = ["count", "min", "p50", "p90", "p95", "p99", "max", "avg"]
        return [
            "Time to first token of streamed requests (TTFT, ms; separate metric, not in the request stats):",
            " ".join(f"{c:>9}" for c in cols),
            " ".join(f"{v:>9}" for v in [str(s["count"])] + [f(s[c]) for c in cols[1:]]),
        ]


TTFT = TimingStats()


def first_token_seen(line: bytes) -> bool:
    """True for an SSE `data:` event whose delta carries content (the first token)."""
    if not line.startswith(b"data:"):
        return False
    data = line[5:].strip()
    if not data or data == b"[DONE]":
        return False
    try:
        event = json.loads(data)
    except ValueError:
        return False
    return any((choice.get("delta") or {}).get("content") for choice in event.get("choices") or [])


class HighThroughputUser(FastHttpUser):
    wait_time = constant_throughput(1)  # one request per second per user
    network_timeout = CLIENT_TIMEOUT_S
    connection_timeout = CLIENT_TIMEOUT_S

    def on_start(self) -> None:
        base = self.client.base_url
        fixed = guide.normalise_host(base)
        if fixed != base:
            self.client.base_url = fixed
        self._host_error = guide.host_problem(fixed)
        if self._host_error:
            guide.log_once("host-bad", logging.ERROR, "cannot send any request: %s", self._host_error)
        self._headers = {"Authorization": f"Bearer {api_key()}", "Content-Type": "application/json"}

    @task
    def chat_completion(self) -> None:
        if self._host_error:
            raise StopUser()
        prompt_tokens = random.choice(PROMPT_TOKENS)
        stream = random.random() < STREAM_SHARE
        body = json.dumps(build_request(prompt_tokens, stream))  # ASCII: the client sends it as is
        name = f"{PATH} {prompt_tokens // 1000}K {'stream' if stream else 'json'}"
        started = time.perf_counter()
        with self.client.post(
            PATH, data=body, headers=self._headers, name=name, stream=stream, catch_response=True
        ) as response:
            status = response.status_code
            if status != 200:
                if status:
                    text = guide.one_line(response.text or "")
                    response.failure(f"{status}: {text[: guide.FAILURE_TEXT_LIMIT]}")
                    guide.append_error(f"{status}: {text}")
                else:
                    guide.append_error(f"0: {getattr(response, 'error', None)!r}")
                return
            guide.OVERHEAD.log_header(response.headers.get(guide.OVERHEAD_HEADER) if response.headers else None)
            if stream:
                self._read_stream(response, started)

    def _read_stream(self, response: ResponseContextManager, started: float) -> None:
        """Read the SSE stream to its end; TTFT at the first content delta, the request's time at the end."""
        ttft_ms: float | None = None
        done = False
        buffer = b""
        try:
            for chunk in response.iter_content(chunk_size=4096, decode_content=False):
                buffer += chunk if isinstance(chunk, bytes) else chunk.encode()
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    line = line.strip()
                    if ttft_ms is None and first_token_seen(line):
                        ttft_ms = (time.perf_counter() - started) * 1000
                    if line == b"data: [DONE]":
                        done = True
        except Exception as exc:  # a broken stream is a failed request, not a crash of the user
            response.failure(f"stream broken: {exc!r}")
            return
        response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
        if ttft_ms is None:
            response.failure("stream ended without a content token")
        elif not done:
            response.failure("stream ended without [DONE]")
        else:
            TTFT.log(ttft_ms)


@guide.listener(events.init)
def on_init(environment: Environment, **_kwargs: object) -> None:
    guide.after_run(environment, _final_report)


@guide.listener(events.test_start)
def on_test_start(**_kwargs: object) -> None:
    TTFT.reset()


@guide.listener(events.reset_stats)
def on_reset_stats(**_kwargs: object) -> None:
    TTFT.reset()


@guide.listener(events.report_to_master)
def on_report_to_master(client_id: str, data: dict[str, Any], **_kwargs: object) -> None:
    data[TTFT_REPORT_KEY] = TTFT.take_delta()


@guide.listener(events.worker_report)
def on_worker_report(client_id: str, data: dict[str, Any], **_kwargs: object) -> None:
    if TTFT_REPORT_KEY in data:
        TTFT.merge(data[TTFT_REPORT_KEY])


def _final_report() -> None:
    guide.report_metric(TTFT, "LITELLM_TTFT_JSON", TTFT.summary)
