"""Locust load test for the LiteLLM proxy, faithful to LiteLLM's "1K RPS load test on Locust" guide.

Same user as the guide: ``wait_time = between(0.5, 1)``, one task POSTing the relative path
``chat/completions`` with a ~16 KB uncacheable prompt and ``"user": "my-new-end-user-1"``.
Differences, each on purpose:

* ``FastHttpUser`` instead of ``HttpUser`` (one core drives ~1,300 RPS at 1,000 users; HttpUser
  caps near 1,000). FastHttpUser only *concatenates* host and path, so a host without a
  trailing slash (``http://h:4000`` + ``chat/completions``) makes every request fail to build
  and the run reports nothing: the host is normalised to end with ``/`` in ``on_start``.
* The master key comes from ``LITELLM_MASTER_KEY`` (fallback ``API_KEY``, the guide's variable)
  and has NO default: LiteLLM refuses the guide's ``sk-1234``. Locust exits at start without it.
* Failures carry their status and response text in Locust's failure table, and are appended to
  the file named by ``LOCUST_ERROR_FILE`` (the guide's ``error.txt``; default: no file).
* The ``x-litellm-overhead-duration-ms`` response header is kept in its own statistics, never
  fired through ``events.request``: it must not inflate the request RPS or the "Aggregated" row
  (the guide's published Aggregated row double-counts it). Workers send their samples to the
  master (``report_to_master`` / ``worker_report``); the master (or the single process) shows
  them in the web UI (tab "LiteLLM overhead", ``/litellm-overhead`` JSON, ``/litellm-overhead/ui``),
  prints them at the end and writes them to ``LITELLM_OVERHEAD_JSON`` if set.
* Every user's outcomes are kept too (requests sent, 200s, HTTP errors, no answer), so a run can
  tell *starved* users (never got a success: e.g. queued behind a saturated proxy until the 60 s
  client timeout) from a healthy average. Workers send them to the master like the overhead;
  the master (or single process) writes a summary to ``LOCUST_USERS_JSON`` if set.
* A run that sends no request, or in which every request failed, exits 1 with a message; so
  does a run whose failure ratio exceeds ``LOCUST_MAX_FAIL_RATIO`` (e.g. ``0.01``; default: not
  enforced, Locust's own rule applies: any failure gives ``--exit-code-on-error``).

Environment: LITELLM_MASTER_KEY (or API_KEY), LITELLM_MODEL (default fake-openai-endpoint),
LOCUST_ERROR_FILE, LITELLM_OVERHEAD_JSON, LOCUST_USERS_JSON, LOCUST_MAX_FAIL_RATIO.

    locust -f loadtest/locustfile.py --headless -u 1000 -r 500 -t 5m -H http://127.0.0.1:4000/
    locust -f loadtest/locustfile.py --processes 4 -H http://127.0.0.1:4000   # web UI on :8089
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

if TYPE_CHECKING:
    from locust.env import Environment
    from locust.event import EventHook
    from locust.web import WebUI

MODEL = os.getenv("LITELLM_MODEL") or "fake-openai-endpoint"
OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"
REPORT_KEY = "litellm_overhead"  # key of our data in the worker -> master stats message
USERS_REPORT_KEY = "litellm_users"
PERCENTILES = (0.50, 0.90, 0.95, 0.99)
FAILURE_TEXT_LIMIT = 300

logger = logging.getLogger("litellm_locust")
console = logging.getLogger("locust.stats_logger")  # where Locust prints its own tables


def master_key() -> str | None:
    """LITELLM_MASTER_KEY, else API_KEY (the guide's variable). No default: sk-1234 is refused."""
    return os.getenv("LITELLM_MASTER_KEY") or os.getenv("API_KEY") or None


def normalise_host(host: str | None) -> str | None:
    """FastHttpUser builds URLs as host + path: the relative path needs a host ending in '/'."""
    if host and not host.endswith("/"):
        return host + "/"
    return host


def host_problem(host: str | None) -> str | None:
    """Why requests to this base URL could not be built, or None if it looks usable."""
    if not host:
        return "no host given (use -H http://HOST:PORT/ or the web UI's Host field)"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"host {host!r} is not an http(s)://HOST[:PORT]/ URL"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"host {host!r} has an invalid port ({exc})"
    return None


def max_fail_ratio() -> float | None:
    raw = os.getenv("LOCUST_MAX_FAIL_RATIO", "").strip()
    if not raw:
        return None
    value = float(raw)  # ValueError is reported at start-up (see on_init)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {value}")
    return value


def one_line(text: str) -> str:
    return " ".join(text.split())


Handler = TypeVar("Handler", bound=Callable[..., None])


def listener(hook: EventHook) -> Callable[[Handler], Handler]:
    """``@listener(events.init)`` is Locust's ``@events.init.add_listener``, typed (EventHook has no annotations)."""
    return cast("Callable[[Handler], Handler]", hook.add_listener)


# --------------------------------------------------------------------------------------------
# Overhead statistics: a histogram of its own (NOT Locust's RequestStats). Locust's StatsEntry
# buckets times to whole milliseconds below 100 ms (3.5 -> 4), far too coarse for an overhead
# whose median is ~2 ms, and anything logged there would be counted as requests.
# --------------------------------------------------------------------------------------------


def bucket(value_ms: float) -> float:
    """Keep ~3 significant digits (0.01 ms resolution below 10 ms): bounded keys, exact enough."""
    if value_ms < 10:
        return round(value_ms, 2)
    if value_ms < 100:
        return round(value_ms, 1)
    digits = math.floor(math.log10(value_ms))
    return float(round(value_ms, 2 - digits))


class OverheadStats:
    """Samples of the overhead header, mergeable across processes.

    On a worker it holds the samples since the last report to the master (a delta); on the
    master it holds the merged totals; on a single process it holds the totals.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total_ms = 0.0
        self.min_ms: float | None = None
        self.max_ms: float | None = None
        self.histogram: dict[float, int] = {}
        self.header_missing = 0  # 200 responses without the header
        self.header_invalid = 0  # header present but not a non-negative number
        self.ok_responses = 0  # 200 responses seen (= count + missing + invalid)
        self.first_ts: float | None = None
        self.last_ts: float | None = None

    def _touch(self, now: float) -> None:
        self.ok_responses += 1
        if self.first_ts is None:
            self.first_ts = now
        self.last_ts = now

    def log_header(self, raw: str | None) -> None:
        self._touch(time.time())
        if raw is None:
            self.header_missing += 1
            return
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value) or value < 0:
            self.header_invalid += 1
            return
        self.count += 1
        self.total_ms += value
        self.min_ms = value if self.min_ms is None else min(self.min_ms, value)
        self.max_ms = value if self.max_ms is None else max(self.max_ms, value)
        key = bucket(value)
        self.histogram[key] = self.histogram.get(key, 0) + 1

    def serialize(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "total_ms": self.total_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "histogram": [[k, v] for k, v in self.histogram.items()],  # msgpack-friendly
            "header_missing": self.header_missing,
            "header_invalid": self.header_invalid,
            "ok_responses": self.ok_responses,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
        }

    def take_delta(self) -> dict[str, Any]:
        data = self.serialize()
        self.reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        self.count += int(data.get("count", 0))
        self.total_ms += float(data.get("total_ms", 0.0))
        for key, n in data.get("histogram", []):
            key = float(key)
            self.histogram[key] = self.histogram.get(key, 0) + int(n)
        self.header_missing += int(data.get("header_missing", 0))
        self.header_invalid += int(data.get("header_invalid", 0))
        self.ok_responses += int(data.get("ok_responses", 0))
        for attr, pick in (("min_ms", min), ("max_ms", max), ("first_ts", min), ("last_ts", max)):
            theirs = data.get(attr)
            if theirs is not None:
                mine = getattr(self, attr)
                setattr(self, attr, theirs if mine is None else pick(mine, theirs))

    def percentile(self, fraction: float) -> float | None:
        """Nearest-rank percentile over the histogram, clamped to the exact min/max."""
        if not self.count:
            return None
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for key in sorted(self.histogram):
            seen += self.histogram[key]
            if seen >= rank:
                return min(max(key, self.min_ms), self.max_ms)  # type: ignore[type-var]
        return self.max_ms

    def summary(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        result = {
            "header": OVERHEAD_HEADER,
            "unit": "ms",
            "count": self.count,
            "min": r(self.min_ms),
            "max": r(self.max_ms),
            "avg": r(self.total_ms / self.count) if self.count else None,
        }
        for p in PERCENTILES:
            result[f"p{round(p * 100)}"] = r(self.percentile(p))
        result.update(
            header_missing=self.header_missing,
            header_invalid=self.header_invalid,
            ok_responses=self.ok_responses,
        )
        return result

    def table(self) -> list[str]:
        s = self.summary()

        def f(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f}"

        cols = ["count", "min", "p50", "p90", "p95", "p99", "max", "avg", "missing"]
        vals = [str(s["count"])] + [f(s[c]) for c in cols[1:-1]] + [str(s["header_missing"])]
        return [
            f"LiteLLM overhead ({OVERHEAD_HEADER}, ms; separate metric, not in the request stats):",
            " ".join(f"{c:>9}" for c in cols),
            " ".join(f"{v:>9}" for v in vals),
        ]


OVERHEAD = OverheadStats()


class UserLedger:
    """Per-user outcome counts: [sent, ok, http_error, no_answer]; mergeable like OverheadStats."""

    SENT, OK, HTTP_ERROR, NO_ANSWER = range(4)

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, list[int]] = {}

    def join(self) -> str:
        user_id = str(next(self._ids))
        self.users[user_id] = [0, 0, 0, 0]
        return user_id

    def record(self, user_id: str, outcome: int) -> None:
        counts = self.users.setdefault(user_id, [0, 0, 0, 0])
        counts[outcome] += 1

    def take_delta(self) -> dict[str, list[int]]:
        data = {k: list(v) for k, v in self.users.items()}
        self.reset()
        return data

    def merge(self, data: dict[str, list[int]], prefix: str) -> None:
        for user_id, counts in data.items():
            mine = self.users.setdefault(f"{prefix}/{user_id}", [0, 0, 0, 0])
            for i, n in enumerate(counts[:4]):
                mine[i] += int(n)

    def summary(self) -> dict[str, int]:
        rows = list(self.users.values())
        sent = sum(r[self.SENT] for r in rows)
        done = sum(r[self.OK] + r[self.HTTP_ERROR] + r[self.NO_ANSWER] for r in rows)
        starved = [r for r in rows if r[self.OK] == 0]
        return {
            "users": len(rows),
            "starved_users": len(starved),
            "starved_timed_out": sum(1 for r in starved if r[self.NO_ANSWER] > 0),
            "starved_never_answered": sum(1 for r in starved if r[self.HTTP_ERROR] + r[self.NO_ANSWER] == 0),
            "sent": sent,
            "ok": sum(r[self.OK] for r in rows),
            "http_error": sum(r[self.HTTP_ERROR] for r in rows),
            "no_answer": sum(r[self.NO_ANSWER] for r in rows),
            "unfinished": sent - done,
            "min_ok_per_user": min((r[self.OK] for r in rows), default=0),
        }


USERS = UserLedger()
_logged_once: set[str] = set()


def log_once(key: str, level: int, msg: str, *args: object) -> None:
    if key not in _logged_once:
        _logged_once.add(key)
        logger.log(level, msg, *args)


def append_error(line: str) -> None:
    path = os.getenv("LOCUST_ERROR_FILE")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError as exc:
        log_once("error-file", logging.ERROR, "cannot append to LOCUST_ERROR_FILE=%s: %s", path, exc)


# --------------------------------------------------------------------------------------------
# The user
# --------------------------------------------------------------------------------------------


class LiteLLMUser(FastHttpUser):
    wait_time = between(0.5, 1)  # the guide's wait time

    def on_start(self) -> None:
        base = self.client.base_url
        fixed = normalise_host(base)
        if fixed != base:
            log_once("host-slash", logging.INFO, "host %r has no trailing '/': using %r", base, fixed)
            self.client.base_url = fixed
        self._host_error = host_problem(fixed)
        if self._host_error:
            log_once("host-bad", logging.ERROR, "cannot send any request: %s", self._host_error)
        self._headers = {"Authorization": f"Bearer {master_key()}"}
        self._ledger_id = USERS.join()

    @task
    def litellm_completion(self) -> None:
        if self._host_error:
            raise StopUser()  # logged once in on_start; the run then ends with "no requests"
        # no cache hits with this (the guide's payload: the whole f-string, UUID included, x 150)
        content = f"{uuid.uuid4()} This is a test there will be no cache hits and we'll fill up the context" * 150
        payload = {
            "model": MODEL,
            "messages": [{"role": "user", "content": content}],
            "user": "my-new-end-user-1",
        }
        USERS.record(self._ledger_id, UserLedger.SENT)
        with self.client.post("chat/completions", json=payload, headers=self._headers, catch_response=True) as response:
            status = response.status_code
            if status == 200:
                USERS.record(self._ledger_id, UserLedger.OK)
                OVERHEAD.log_header(response.headers.get(OVERHEAD_HEADER) if response.headers else None)
                return
            if status:  # an HTTP answer other than 200: record it with its body
                USERS.record(self._ledger_id, UserLedger.HTTP_ERROR)
                text = one_line(response.text or "")
                response.failure(f"{status}: {text[:FAILURE_TEXT_LIMIT]}")
                append_error(f"{status}: {text}")
            else:  # no HTTP answer (connection refused, timeout...): Locust records the exception
                USERS.record(self._ledger_id, UserLedger.NO_ANSWER)
                append_error(f"0: {getattr(response, 'error', None)!r}")


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


def _is_worker(environment: Environment) -> bool:
    return isinstance(environment.runner, WorkerRunner)


@listener(events.init)
def on_init(environment: Environment, **_kwargs: object) -> None:
    problems = []
    if not master_key():
        problems.append(
            "no LiteLLM master key: set LITELLM_MASTER_KEY (or API_KEY) to the proxy's master key, "
            "e.g. LITELLM_MASTER_KEY=sk-... locust -f loadtest/locustfile.py ... "
            "(there is no default: LiteLLM refuses the guide's sk-1234)"
        )
    try:
        max_fail_ratio()
    except ValueError as exc:
        problems.append(f"invalid LOCUST_MAX_FAIL_RATIO={os.getenv('LOCUST_MAX_FAIL_RATIO')!r}: {exc}")
    if problems:
        for problem in problems:
            logger.error("%s", problem)
        # Every process checks (master included): a worker that died alone would leave the
        # master waiting for it. SystemExit is not swallowed by EventHook.fire.
        raise SystemExit(1)
    after_run(environment, _final_report)
    if environment.web_ui is not None:
        _install_web_ui(environment, environment.web_ui)


@listener(events.test_start)
def on_test_start(environment: Environment, **_kwargs: object) -> None:
    OVERHEAD.reset()  # Locust clears its request stats at the same moment
    USERS.reset()


@listener(events.reset_stats)
def on_reset_stats(**_kwargs: object) -> None:
    OVERHEAD.reset()  # web UI "Reset stats" (master/local; workers only hold deltas)


@listener(events.report_to_master)
def on_report_to_master(client_id: str, data: dict[str, Any], **_kwargs: object) -> None:
    data[REPORT_KEY] = OVERHEAD.take_delta()
    data[USERS_REPORT_KEY] = USERS.take_delta()


@listener(events.worker_report)
def on_worker_report(client_id: str, data: dict[str, Any], **_kwargs: object) -> None:
    if REPORT_KEY in data:
        OVERHEAD.merge(data[REPORT_KEY])
    if USERS_REPORT_KEY in data:
        USERS.merge(data[USERS_REPORT_KEY], prefix=str(client_id))


@listener(events.quitting)
def on_quitting(environment: Environment, **_kwargs: object) -> None:
    """Decide the exit code (Locust reads environment.process_exit_code right after this)."""
    if _is_worker(environment) or environment.runner is None:
        return
    total = environment.runner.stats.total
    if total.num_requests == 0:
        logger.error(
            "NO REQUESTS WERE SENT: the benchmark measured nothing. Check the host "
            "(-H http://HOST:PORT/), the errors above and the exceptions table."
        )
        environment.process_exit_code = 1
        return
    if total.num_failures >= total.num_requests:
        logger.error(
            "EVERY REQUEST FAILED (%d of %d): see the failure table (status: response text).",
            total.num_failures,
            total.num_requests,
        )
        environment.process_exit_code = 1
        return
    limit = max_fail_ratio()
    if limit is None:
        return  # Locust's rule: any failure or exception -> --exit-code-on-error
    if total.fail_ratio > limit:
        logger.error(
            "failure ratio %.4f (%d of %d) exceeds LOCUST_MAX_FAIL_RATIO=%s",
            total.fail_ratio,
            total.num_failures,
            total.num_requests,
            limit,
        )
        environment.process_exit_code = 1
    elif not environment.runner.exceptions:
        # Locust's documented pattern: the threshold decides; exceptions still fail the run.
        environment.process_exit_code = 0


def report_metric(stats: OverheadStats, path_variable: str, data: Callable[[], object]) -> None:
    """Print a metric's table; write data() as JSON to the file named by the variable, if set."""
    for line in stats.table():
        console.info(line)
    console.info("")
    path = os.getenv(path_variable)
    if path:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data(), fh, indent=2)
            fh.write("\n")


def _overhead_json() -> dict[str, Any]:
    # The histogram (value ms -> count) beside the percentiles, for the report's distribution chart.
    histogram = [[key, OVERHEAD.histogram[key]] for key in sorted(OVERHEAD.histogram)]
    return {**OVERHEAD.summary(), "histogram": histogram}


def _final_report() -> None:
    """Print the overhead and write LITELLM_OVERHEAD_JSON, after the runner has stopped."""
    report_metric(OVERHEAD, "LITELLM_OVERHEAD_JSON", _overhead_json)
    users_path = os.getenv("LOCUST_USERS_JSON")
    if users_path:
        with open(users_path, "w", encoding="utf-8") as fh:
            json.dump(USERS.summary(), fh, indent=2)
            fh.write("\n")


def after_run(environment: Environment, report: Callable[[], None]) -> None:
    """Run report() at the end, on the master or single process (workers only hold deltas)."""

    # `quit` fires after runner.quit(), i.e. after the workers' final reports were merged.
    @listener(environment.events.quit)
    def on_quit(exit_code: int, **_kwargs: object) -> None:
        if not _is_worker(environment):
            report()


# --------------------------------------------------------------------------------------------
# Web UI: a "LiteLLM overhead" tab in Locust's UI, plus /litellm-overhead (JSON) and
# /litellm-overhead/ui (a minimal stand-alone page). Only the master/local process has a UI.
# --------------------------------------------------------------------------------------------

_TAB_KEY = "litellm-overhead"
_TAB_COLUMNS = [
    ("name", "Header"),
    ("count", "# samples"),
    ("min", "Min (ms)"),
    ("p50", "Median (ms)"),
    ("p90", "90%ile (ms)"),
    ("p95", "95%ile (ms)"),
    ("p99", "99%ile (ms)"),
    ("max", "Max (ms)"),
    ("avg", "Average (ms)"),
    ("header_missing", "200s without header"),
]

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LiteLLM overhead</title>
<style>body{font-family:sans-serif;margin:2em}
td,th{padding:4px 12px;text-align:right;border-bottom:1px solid #ccc}</style>
</head><body>
<h2>LiteLLM overhead (<code>x-litellm-overhead-duration-ms</code>)</h2>
<p>Reported by the proxy on each 200 response; kept apart from the request statistics
(not counted in RPS or in the Aggregated row). Refreshes every 2 s.</p>
<table><thead><tr id="h"></tr></thead><tbody><tr id="v"></tr></tbody></table>
<script>
const cols=["count","min","p50","p90","p95","p99","max","avg","header_missing","header_invalid"];
document.getElementById("h").innerHTML=cols.map(c=>"<th>"+c+"</th>").join("");
async function tick(){
  try{const r=await fetch("JSON_URL");const d=(await r.json()).overhead;
  document.getElementById("v").innerHTML=cols.map(c=>"<td>"+(d[c]===null?"-":d[c])+"</td>").join("");}
  catch(e){}
}
tick();setInterval(tick,2000);
</script></body></html>
"""


def _install_web_ui(environment: Environment, web_ui: WebUI) -> None:
    from flask import Response, jsonify, request

    app = web_ui.app
    if app is None:  # declared optional, always set by WebUI.__init__
        return
    options = environment.parsed_options
    base = ((options and options.web_base_path) or "").rstrip("/")
    json_path = f"{base}/litellm-overhead"

    def overhead_json() -> Response:
        return jsonify({"overhead": OVERHEAD.summary(), "is_distributed": isinstance(environment.runner, MasterRunner)})

    def overhead_page() -> Response:
        return Response(_PAGE.replace("JSON_URL", json_path), mimetype="text/html")

    app.add_url_rule(json_path, "litellm_overhead_json", web_ui.auth_required_if_enabled(overhead_json))
    app.add_url_rule(f"{json_path}/ui", "litellm_overhead_page", web_ui.auth_required_if_enabled(overhead_page))

    # A tab in Locust's own (React) UI, the way Locust's examples/extend_web_ui.py does it.
    # update_template_args() merges into template_args, so these keys persist.
    web_ui.template_args["extended_tabs"] = [{"title": "LiteLLM overhead", "key": _TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": _TAB_KEY, "structure": [{"key": k, "title": t} for k, t in _TAB_COLUMNS]}
    ]

    @app.after_request
    def add_overhead_to_stats(response: Response) -> Response:
        if request.path != f"{base}/stats/requests" or response.status_code != 200:
            return response
        try:
            body = response.get_json()
        except Exception:  # not JSON: leave it alone
            return response
        if not isinstance(body, dict):
            return response
        row = {"name": OVERHEAD_HEADER, **OVERHEAD.summary()}
        row = {k: ("-" if v is None else v) for k, v in row.items()}
        body["extended_stats"] = [{"key": _TAB_KEY, "data": [row]}]
        response.set_data(json.dumps(body))
        return response
