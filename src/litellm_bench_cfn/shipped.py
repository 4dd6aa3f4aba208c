"""The files the package ships as text (package data): the fake endpoint and the Locust files.

Read with importlib.resources, so an installed wheel finds them without a checkout. The repository's
top-level `loadtest/` holds symlinks to `loadtest/` here, the paths the README documents.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_PACKAGE = files("litellm_bench_cfn")


def _path(*parts: str) -> Path:
    # Locust and python3 need a file path; pip installs wheels unpacked, so the resource is one.
    return Path(str(_PACKAGE.joinpath(*parts)))


FAKE_ENDPOINT = _path("fake_endpoint.py")
LOCUSTFILE = _path("loadtest", "locustfile.py")
"""LiteLLM's guide load (the default of `bench local` and the harness)."""
HIGH_THROUGHPUT_LOCUSTFILE = _path("loadtest", "high_throughput.py")
"""The high-throughput load (imports the guide's locustfile next to it)."""
OPEN_LOOP_LOCUSTFILE = _path("loadtest", "open_loop.py")
"""Open-loop arrivals for the capacity sweep."""
