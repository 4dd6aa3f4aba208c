"""The fake endpoint runs as `python3 fake_endpoint.py` in a plain Python image: the standard library only.

Emulated here with `python -I -S`: no site-packages (so no uvloop either, its optional speed-up), no
environment, no current directory on the path. 127.0.0.1 only, every wait bounded.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import urllib.request

from litellm_bench_cfn.shipped import FAKE_ENDPOINT

PREFIX = "fake-openai-endpoint listening on http://127.0.0.1:"


def test_fake_endpoint_serves_with_the_standard_library_alone() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", str(FAKE_ENDPOINT), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 10)[0], "no start line within 10 s"
        line = proc.stdout.readline().strip()
        assert line.startswith(PREFIX), f"{line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{int(line[len(PREFIX) :])}/v1/chat/completions",
            data=json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["object"] == "chat.completion"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0
