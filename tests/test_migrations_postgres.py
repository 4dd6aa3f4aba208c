"""Issue 13.1: four tasks' migrations containers, started together on one real PostgreSQL, must all exit 0.

What runs is what the stack ships: the `migrations` container of templates/cloudformation-ecs.yaml,
resolved with task_runtime as ECS starts it (its entrypoint and command, or the image's ENTRYPOINT
when it sets none; its environment and DATABASE_PASSWORD secret), pointed at a private TLS-only
PostgreSQL on 127.0.0.1 that the test starts and stops (tests/postgres_server.py; like RDS with
`rds.force_ssl`, it accepts no unencrypted connection). The copies keep the template's TLS settings:
DATABASE_SSLMODE=verify-full, and DATABASE_SSLROOTCERT names a CA bundle holding the CA that signed the
server's certificate. `docker/prod_entrypoint.sh` is the local shim `bench local` uses (it execs the
installed `litellm` CLI), so LiteLLM's own code does the work: `litellm --skip_server_startup`, its
migration setup (and TLS URL translation) and litellm_proxy_extras' request_log_indexes over psycopg.

Emulated, because it cannot run here: the task volume the `rds-ca-bundle` init container fills from
AWS's trust store (a bundle file in the test's temp dir stands in; tests/test_database_tls.py runs that
init container itself), and the Prisma CLI (its engines are downloaded at run time from a host this
machine cannot reach). tests/emulated_prisma.py stands in for `prisma --version` and `prisma migrate
deploy` (LiteLLM's shipped migrations under Prisma's advisory lock, over Prisma's TLS settings), and the test
runs that deploy once before the copies start: the copies then find no pending migration, as every
copy but the first does on a first deploy, and every copy does on a redeploy.

The race is staged, not hoped for: the test holds SHARE UPDATE EXCLUSIVE on "LiteLLM_SpendLogs" (what
a slow first index build on a fresh RDS instance amounts to), so the first copy to take LiteLLM's
migration coordinator lock blocks inside its `CREATE INDEX CONCURRENTLY`, holding the lock. The test
waits until PostgreSQL shows that build waiting and every other copy has reported LiteLLM's
"Database setup failed" (or exited), then releases the table. On the template before the fix the
other three copies exit 1, and in ECS their proxies never start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn.bench.local_stack import container_root, load_template
from litellm_bench_cfn.processes import ManagedProcess
from litellm_bench_cfn.stack import database_tls
from litellm_bench_cfn.stack.compute import MIGRATIONS_CONTAINER
from litellm_bench_cfn.task_runtime import LITELLM_IMAGE_ENTRYPOINT, ContainerLaunch, Resolver, container_launch

from .conftest import BENCHMARK_TEMPLATE, require_modules
from .postgres_server import PostgresServer, running_postgres

pytestmark = pytest.mark.e2e
require_modules("litellm", "litellm_proxy_extras", "psycopg")

# Importing litellm_proxy_extras imports litellm, which would otherwise fetch its cost map from the internet.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm_proxy_extras  # noqa: E402  (after the skip: these come with litellm[proxy])
from litellm_proxy_extras.request_log_indexes import REQUEST_LOG_INDEXES  # noqa: E402

COPIES = 4  # the benchmark's desired task count
SETUP_FAILED = "LiteLLM Proxy: Database setup failed"  # LiteLLM's own line for an exit 1
SPEND_LOGS = "LiteLLM_SpendLogs"
EMULATED_PRISMA = Path(__file__).with_name("emulated_prisma.py")
MIGRATIONS_DIR = Path(str(litellm_proxy_extras.__file__)).parent  # the directory LiteLLM runs Prisma in


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A private TLS-only PostgreSQL (tests/postgres_server.py), as RDS with `rds.force_ssl`."""
    with running_postgres(tmp_path_factory.mktemp("postgres"), tls=True) as pg:
        yield pg


def ca_bundle(pg: PostgresServer, directory: Path) -> Path:
    """What the `rds-ca-bundle` init container leaves on the task volume: a multi-root bundle like the
    region's, one of whose roots (the test CA) signed the server's certificate."""
    bundle = directory / "rds-ca" / Path(database_tls.BUNDLE_PATH).name
    bundle.parent.mkdir()
    bundle.write_bytes(pg.cas.wrong_ca.read_bytes() + pg.cas.right_ca.read_bytes())
    return bundle


def migrations_launch(pg: PostgresServer, bundle: Path) -> ContainerLaunch:
    """The committed template's migrations container, its database the local PostgreSQL, its CA bundle
    `bundle` in place of the task volume's file (the only environment value changed)."""
    resolver = Resolver(
        template=load_template(BENCHMARK_TEMPLATE),
        attributes={"Database.Endpoint.Address": "127.0.0.1", "Database.Endpoint.Port": str(pg.port)},
    )
    launch = container_launch(
        resolver,
        "ProxyTaskDefinition",
        MIGRATIONS_CONTAINER,
        {"DatabasePasswordSecret": pg.password},
        image_entrypoint=LITELLM_IMAGE_ENTRYPOINT,
    )
    assert launch.environment["DATABASE_USERNAME"] == pg.user and launch.environment["DATABASE_NAME"] == pg.database
    assert launch.environment["DATABASE_SSLMODE"] == "verify-full"
    assert launch.environment["DATABASE_SSLROOTCERT"] == database_tls.BUNDLE_PATH
    return replace(launch, environment=launch.environment | {"DATABASE_SSLROOTCERT": str(bundle)})


def prisma_bin(workdir: Path) -> Path:
    """A directory whose `prisma` is the emulation (the only part that is not LiteLLM's own)."""
    bin_dir = workdir / "prisma-bin"
    bin_dir.mkdir()
    prisma = bin_dir / "prisma"
    prisma.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{EMULATED_PRISMA}" "$@"\n')
    prisma.chmod(0o755)
    return bin_dir


def copy_process(launch: ContainerLaunch, workdir: Path, index: int, bin_dir: Path) -> ManagedProcess:
    """One task's migrations container: its own /app and HOME, the template's argv and environment."""
    root = container_root(workdir / f"task-{index}")
    env = dict(launch.environment)
    env.update(
        {
            "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
            "HOME": str(root),
            "TMPDIR": str(root / "tmp"),
            "LANG": "C.UTF-8",
        }
    )
    log = workdir / f"task-{index}.log"
    return ManagedProcess(f"migrations #{index}", launch.argv, env=env, cwd=root, log_path=log)


def waiting_builds(pg: PostgresServer) -> int:
    """Sessions waiting for a lock on LiteLLM_SpendLogs: an index build blocked by the test's lock."""
    with pg.connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = to_regclass(%s) AND NOT granted", (f'"{SPEND_LOGS}"',)
        ).fetchone()
    return int(row[0]) if row else 0


def wait_for(condition: Any, timeout: float, what: str, copies: list[ManagedProcess]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {c.name} (exit {c.poll()}):\n{c.log_tail(8)}" for c in copies)
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(0.2)


def reported_failure(copy: ManagedProcess) -> bool:
    return copy.poll() is not None or SETUP_FAILED in copy.log_path.read_text(errors="replace")


def request_log_indexes(pg: PostgresServer) -> dict[str, bool]:
    with pg.connect(autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE x.indrelid = to_regclass(%s)",
            (f'"{SPEND_LOGS}"',),
        ).fetchall()
    return {name: valid for name, valid in rows}


def test_four_migrations_containers_started_together_all_succeed(postgres: PostgresServer, tmp_path: Path) -> None:
    launch = migrations_launch(postgres, ca_bundle(postgres, tmp_path))
    bin_dir = prisma_bin(tmp_path)
    prisma_tls = {"sslmode": "require", "sslcert": str(postgres.cas.right_ca), "sslaccept": "strict"}
    subprocess.run(
        [sys.executable, EMULATED_PRISMA, "migrate", "deploy"],
        cwd=MIGRATIONS_DIR,
        env={**os.environ, "DATABASE_URL": postgres.url(with_password=True, **prisma_tls)},
        check=True,
        capture_output=True,
    )
    assert not set(request_log_indexes(postgres)) & {i.name for i in REQUEST_LOG_INDEXES}

    copies = [copy_process(launch, tmp_path, i, bin_dir) for i in range(COPIES)]
    with postgres.connect() as blocker:
        blocker.execute(f'LOCK TABLE "{SPEND_LOGS}" IN SHARE UPDATE EXCLUSIVE MODE')
        try:
            for copy in copies:
                copy.start()
            wait_for(lambda: waiting_builds(postgres) >= 1, 240, "the first index build to block", copies)
            builders = waiting_builds(postgres)
            wait_for(
                lambda: sum(reported_failure(c) for c in copies) >= COPIES - builders,
                240,
                "the other copies to meet the held migration lock",
                copies,
            )
            met_the_lock = [c.name for c in copies if SETUP_FAILED in c.log_path.read_text(errors="replace")]
        finally:
            blocker.rollback()
        try:
            codes = [copy.wait_exit(timeout=300) for copy in copies]
        finally:
            for copy in copies:
                copy.stop()

    assert builders == 1, "one copy builds under LiteLLM's coordinator lock at a time"
    assert len(met_the_lock) == COPIES - 1, f"the race was not staged: {met_the_lock} met the held lock"
    logs = "\n".join(f"--- {c.name} (exit {code}):\n{c.log_tail(6)}" for c, code in zip(copies, codes, strict=True))
    assert codes == [0] * COPIES, f"every task's migrations container must exit 0 for its proxy to start:\n{logs}"
    indexes = request_log_indexes(postgres)
    for index in REQUEST_LOG_INDEXES:
        assert indexes.get(index.name) is True, f"{index.name} is missing or invalid: {indexes}"
