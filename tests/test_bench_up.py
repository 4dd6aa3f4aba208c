"""`bench up`: the stack `bench local` measures, kept up for your own client.

LiteLLM's own locustfile from the guide (tests/data/guide_locustfile.py, copied verbatim from the
docs) runs unchanged against it with the printed key in its API_KEY variable, and so does the
official `openai` SDK, plain and streamed. Then SIGTERM stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .benchproc import BenchProcess, survivors
from .conftest import REPO_ROOT, require_modules

pytestmark = pytest.mark.e2e
require_modules("litellm", "locust", "openai")

GUIDE_LOCUSTFILE = REPO_ROOT / "tests" / "data" / "guide_locustfile.py"


def test_the_guides_locustfile_and_the_openai_sdk_run_against_bench_up(tmp_path: Path) -> None:
    import openai

    up = BenchProcess("up", "--json", results=tmp_path / "results")
    try:
        facts = json.loads(up.wait_for_line('"master_key"', timeout=200))
        assert facts["base_url"].startswith("http://127.0.0.1:") and facts["base_url"].endswith("/")
        assert facts["master_key"].startswith("sk-") and facts["workers"] == 1

        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LITELLM_"))}
        env["API_KEY"] = facts["master_key"]  # the guide's file reads its key from API_KEY
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(GUIDE_LOCUSTFILE), "--headless", "-u", "4", "-r", "4",
             "-t", "4s", "--stop-timeout", "5", "-H", facts["base_url"], "--json-file", str(tmp_path / "guide")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        stats = json.loads((tmp_path / "guide.json").read_text())
        requests = sum(e["num_requests"] for e in stats)
        assert requests > 0 and sum(e["num_failures"] for e in stats) == 0, locust.stderr[-2000:]
        assert not (tmp_path / "error.txt").exists()  # the guide's file logs every non-200 there

        client = openai.OpenAI(base_url=facts["openai_base_url"], api_key=facts["master_key"], max_retries=0)
        messages = [{"role": "user", "content": "hello"}]
        answer = client.chat.completions.create(model=facts["model"], messages=messages)  # type: ignore[arg-type]
        assert "Hello there" in (answer.choices[0].message.content or "")
        stream = client.chat.completions.create(model=facts["model"], messages=messages, stream=True)  # type: ignore[arg-type]
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert "how may I assist you today?" in text

        children = up.descendants()
        up.proc.send_signal(signal.SIGTERM)
        assert up.proc.wait(timeout=30) == 128 + signal.SIGTERM
        assert survivors(children, within=5) == []
    finally:
        up.kill_everything()
