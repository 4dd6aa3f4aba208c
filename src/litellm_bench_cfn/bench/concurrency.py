"""Other benchmarks on this machine: each run registers itself, and looks for the others.

Two things count as a competing benchmark: another run registered under the runtime directory
(a pid file per run, removed at the end; stale ones, whose process is gone, are ignored and
removed), and any process outside this run whose command line is a load generator or a LiteLLM
proxy (Locust, `litellm --config`, another `bench`), e.g. a test suite or a hand-started stack.
Both compete for the same CPUs and distort what this run measures.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"litellm-bench-cfn-{os.getuid()}"


def _looks_like_benchmark(cmdline: list[str]) -> str | None:
    words = [Path(w).name for w in cmdline]
    if "locust" in words:
        return "locust"
    if "litellm" in words and any(w in cmdline for w in ("--config", "--port", "--num_workers")):
        return "litellm proxy"
    if "litellm-bench-cfn" in words and "bench" in cmdline:
        return "litellm-bench-cfn bench"
    if "litellm_bench_cfn.cli" in cmdline and "bench" in cmdline:
        return "litellm-bench-cfn bench"
    return None


def _own_tree() -> set[int]:
    """This process and its parents (e.g. `flock ... bench local`); its children are passed as `exclude`."""
    me = psutil.Process()
    pids = {me.pid}
    with suppress(psutil.Error):
        pids |= {parent.pid for parent in me.parents()}
    return pids


def competing_processes(exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """Benchmark-like processes outside this run (and outside its parents: e.g. `flock ... bench`)."""
    skip = _own_tree() | (exclude or set())
    found: list[dict[str, Any]] = []
    for proc in psutil.process_iter(["pid", "cmdline", "ppid"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info["pid"] in skip or not cmdline:
            continue
        kind = _looks_like_benchmark(cmdline)
        if kind is None:
            continue
        # A proxy's workers and Locust's children repeat their parent's command line: count the top one.
        if proc.info.get("ppid") and _is_same_kind_parent(proc.info["ppid"], kind):
            continue
        found.append({"pid": proc.info["pid"], "kind": kind, "command": " ".join(cmdline)[:200]})
    return found


def _is_same_kind_parent(ppid: int, kind: str) -> bool:
    try:
        return _looks_like_benchmark(psutil.Process(ppid).cmdline()) == kind
    except psutil.Error:
        return False


def registered_runs() -> list[dict[str, Any]]:
    """Other live runs' pid files; stale files (process gone or pid reused) are removed."""
    runs: list[dict[str, Any]] = []
    directory = runtime_dir()
    if not directory.is_dir():
        return runs
    for path in directory.glob("run-*.json"):
        try:
            info = json.loads(path.read_text())
            alive = psutil.Process(int(info["pid"])).create_time() == info["create_time"]
        except (OSError, ValueError, KeyError, TypeError, psutil.Error):
            alive = False
            info = None
        if not alive:
            with suppress(OSError):
                path.unlink()
            continue
        if info is not None and info["pid"] != os.getpid():
            runs.append(info)
    return runs


@contextmanager
def registered_run(workdir: Path, kind: str) -> Iterator[Path]:
    """Register this run for the others to find; the pid file goes away with the run."""
    directory = runtime_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    me = psutil.Process()
    path = directory / f"run-{me.pid}.json"
    record = {
        "pid": me.pid,
        "create_time": me.create_time(),
        "kind": kind,
        "workdir": str(workdir),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path.write_text(json.dumps(record))
    try:
        yield path
    finally:
        with suppress(OSError):
            path.unlink()


def other_benchmarks(exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """Registered runs plus benchmark-like processes, each once (a run's own processes are not repeated)."""
    runs = registered_runs()
    run_pids = {int(r["pid"]) for r in runs}
    tree: set[int] = set(run_pids)
    for pid in run_pids:
        with suppress(psutil.Error):
            tree |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
    found = [{"pid": r["pid"], "kind": f"bench run ({r.get('kind')})", "command": r.get("workdir", "")} for r in runs]
    found += competing_processes((exclude or set()) | tree)
    return found
