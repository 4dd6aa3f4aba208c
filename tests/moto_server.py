"""A moto server on a free loopback port for tests that drive the real AWS CLI, deploy.sh and boto3.

Started once per test module that imports the fixture, stopped by PID in the teardown. The
`aws_env` fixture (import `moto_aws_env`) also points this process's boto3 at it for the module. moto 5.2.5
has one bug the rendered template hits: `Ref` to an AWS::RDS::DBParameterGroup yields the Python
object instead of its name (the class lacks `physical_resource_id`), which crashes stack creation
with a 500. The launcher patches that one attribute before starting moto's own `main`; nothing else
about moto is changed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LAUNCHER = """
import sys
from moto.rds import models
models.DBParameterGroup.physical_resource_id = property(lambda self: self.name)
from moto.server import main
main(sys.argv[1:])
"""
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class MotoServer:
    url: str
    pid: int

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess (AWS CLI, deploy.sh, boto3) that must talk to this server only."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
            AWS_CONFIG_FILE="/nonexistent/config",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(extra)
        return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    server = MotoServer(url=f"http://127.0.0.1:{port}", pid=process.pid)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto server did not start on port {port}: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module", name="aws_env")
def moto_aws_env(moto_server: MotoServer) -> Iterator[dict[str, str]]:
    """The server's environment, its AWS_* variables also set in this process (boto3) for the module."""
    env = moto_server.env()
    patch = pytest.MonkeyPatch()
    for key in [k for k in env if k.startswith("AWS_")]:
        patch.setenv(key, env[key])
    try:
        yield env
    finally:
        patch.undo()
