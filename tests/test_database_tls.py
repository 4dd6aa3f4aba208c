"""Issue 13 item 7c: the template's DB settings make LiteLLM verify the database's TLS certificate.

Real parts: a PostgreSQL on 127.0.0.1 with `ssl=on` and a server certificate from a CA made with openssl
(RDS's stand-in; tests/postgres_server.py); the template's `rds-ca-bundle` container script, run as ECS starts it;
LiteLLM 1.106.2's own URL building from the DATABASE_* variables (`construct_database_url_from_env_vars`,
then `translate_libpq_ssl_params` as `litellm` does before Prisma starts) and the psycopg connection its
migration job's request-log index builder opens (`ProxyExtrasDBManager.build_request_log_indexes`).
Emulated: AWS's trust store (a loopback HTTP server hands out the bundle; the template's URL is the
only override) and the task volume (a temp dir instead of /rds-ca). Prisma's engine cannot run here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn.bench.local_stack import load_template
from litellm_bench_cfn.stack import database_tls
from litellm_bench_cfn.stack.compute import MIGRATIONS_CONTAINER, PROXY_CONTAINER
from litellm_bench_cfn.task_runtime import Resolver, container_launch

from .conftest import BENCHMARK_TEMPLATE, require_modules
from .loopback_http import LoopbackHttpServer, StubHandler
from .postgres_server import PostgresServer, running_postgres

require_modules("litellm", "litellm_proxy_extras", "psycopg")

SECRETS = {"DatabasePasswordSecret": "unused", "SaltKeySecret": "salt", "MasterKeySecret": "master"}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """PostgreSQL with ssl=on, hostssl-only access, its certificate for localhost/127.0.0.1 from `cas.right_ca`."""
    with running_postgres(tmp_path_factory.mktemp("postgres"), tls=True) as pg:
        yield pg


@pytest.fixture(scope="module")
def trust_store(postgres: PostgresServer) -> Iterator[dict[str, bytes]]:
    """A loopback stand-in for truststore.pki.rds.amazonaws.com: path -> body (404 for anything else)."""
    files: dict[str, bytes] = {}

    class Handler(StubHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"not found")

    with LoopbackHttpServer(Handler) as server:
        files["port"] = str(server.port).encode()
        yield files


def _resolver(postgres: PostgresServer) -> Resolver:
    return Resolver(
        template=load_template(BENCHMARK_TEMPLATE),
        attributes={"Database.Endpoint.Address": "localhost", "Database.Endpoint.Port": str(postgres.port)},
    )


def _fetch(trust_store: dict[str, bytes], postgres: PostgresServer, body: bytes | None, target: Path) -> Any:
    """Run the template's rds-ca-bundle container (argv + environment as ECS starts it)."""
    launch = container_launch(_resolver(postgres), "ProxyTaskDefinition", database_tls.CONTAINER, {})
    template_url = urllib.parse.urlsplit(launch.environment[database_tls.BUNDLE_URL_ENV])
    assert template_url.scheme == "https" and template_url.hostname == "truststore.pki.rds.amazonaws.com"
    assert template_url.path == "/us-east-1/us-east-1-bundle.pem"
    if body is not None:
        trust_store[template_url.path] = body
    else:
        trust_store.pop(template_url.path, None)
    env = {
        **launch.environment,
        database_tls.BUNDLE_URL_ENV: f"http://127.0.0.1:{trust_store['port'].decode()}{template_url.path}",
        "DATABASE_SSLROOTCERT": str(target),  # the task volume's path, here a temp dir
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    python = shutil.which("python3", path=str(Path(sys.executable).parent)) or sys.executable
    return subprocess.run([python, *launch.argv[1:]], env=env, capture_output=True, text=True, timeout=60)


def _db_environment(postgres: PostgresServer, container: str, bundle: Path) -> dict[str, str]:
    launch = container_launch(_resolver(postgres), "ProxyTaskDefinition", container, SECRETS | {
        "DatabasePasswordSecret": postgres.password})  # fmt: skip
    env = {k: v for k, v in launch.environment.items() if k.startswith("DATABASE_")}
    assert env["DATABASE_SSLMODE"] == "verify-full"
    assert env["DATABASE_SSLROOTCERT"] == database_tls.BUNDLE_PATH
    return env | {"DATABASE_SSLROOTCERT": str(bundle)}


def _litellm_connects(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[str, str]:
    """LiteLLM's URL for Prisma and the psycopg connection of its index builder; returns (prisma_url, error)."""
    from litellm.proxy.db.db_url_settings import translate_libpq_ssl_params
    from litellm.proxy.utils import construct_database_url_from_env_vars
    from litellm_proxy_extras.utils import ProxyExtrasDBManager

    for name in [n for n in os.environ if n.startswith("DATABASE_") or n == "DIRECT_URL"]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = construct_database_url_from_env_vars()
    assert url is not None
    prisma_url = translate_libpq_ssl_params(url)  # what `litellm` puts in DATABASE_URL for Prisma
    monkeypatch.setenv("DATABASE_URL", prisma_url)
    errors: list[str] = []

    def connect(direct_url: str, schema: str) -> bool:
        import psycopg

        try:
            with psycopg.connect(direct_url, connect_timeout=10, autocommit=True) as connection:
                return connection.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (
                    True,
                )
        except psycopg.OperationalError as exc:
            errors.append(str(exc))
            return False

    built = ProxyExtrasDBManager.build_request_log_indexes(build=connect)
    assert built == (not errors)
    return prisma_url, "; ".join(errors)


def test_fetch_container_writes_the_regions_bundle(trust_store: dict[str, bytes], postgres: PostgresServer,
                                                   tmp_path: Path) -> None:  # fmt: skip
    target = tmp_path / "rds-ca-bundle.pem"
    bundle = postgres.cas.wrong_ca.read_bytes() + postgres.cas.right_ca.read_bytes()
    result = _fetch(trust_store, postgres, bundle, target)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == bundle


def test_fetch_container_fails_clearly_without_a_bundle(trust_store: dict[str, bytes], postgres: PostgresServer,
                                                        tmp_path: Path) -> None:  # fmt: skip
    target = tmp_path / "rds-ca-bundle.pem"
    missing = _fetch(trust_store, postgres, None, target)
    assert missing.returncode == 1 and "cannot fetch the RDS CA bundle" in missing.stderr
    assert "Traceback" not in missing.stderr and not target.exists()
    not_pem = _fetch(trust_store, postgres, b"<html>maintenance</html>", target)
    assert not_pem.returncode == 1 and "is not a PEM certificate bundle" in not_pem.stderr
    assert not target.exists()


@pytest.mark.parametrize("container", [MIGRATIONS_CONTAINER, PROXY_CONTAINER])
def test_template_settings_connect_with_the_right_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer, tmp_path: Path, container: str
) -> None:
    """A multi-root bundle like RDS's: LiteLLM pins the root that verifies the server for Prisma."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(postgres.cas.wrong_ca.read_bytes() + postgres.cas.right_ca.read_bytes())
    prisma_url, error = _litellm_connects(monkeypatch, _db_environment(postgres, container, bundle))
    assert not error
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(prisma_url).query))
    assert query["sslmode"] == "require" and query["sslaccept"] == "strict"
    assert Path(query["sslcert"]).read_bytes().strip() == postgres.cas.right_ca.read_bytes().strip()


@pytest.mark.parametrize("container", [MIGRATIONS_CONTAINER, PROXY_CONTAINER])
def test_template_settings_refuse_a_server_the_bundle_does_not_vouch_for(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer, tmp_path: Path, container: str
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(postgres.cas.wrong_ca.read_bytes())
    _, error = _litellm_connects(monkeypatch, _db_environment(postgres, container, bundle))
    assert "certificate verify failed" in error
