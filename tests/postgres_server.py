"""A private PostgreSQL for tests: initdb into a temp dir, a free 127.0.0.1 port, its unix socket in that
temp dir, scram-sha-256 auth with the awkward password `bench local` generates; optionally TLS-only.

With `tls=True` it runs with `ssl=on` and a hostssl-only pg_hba.conf (no plain TCP connection is
accepted), its certificate for localhost/127.0.0.1 signed by a CA made here with openssl (`right_ca`,
RDS's stand-in), and a second CA that vouches for nothing here (`wrong_ca`). PostgreSQL refuses to run
as root, so as root the server runs as the `postgres` (else `nobody`) user. On exit it stops the server
and copies its log to `log_dir`. A missing initdb (or openssl, for TLS) skips the test locally and
fails it under CI=true, where scripts/bootstrap.sh installs both.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from litellm_bench_cfn.bench.local_stack import GeneratedSecrets
from litellm_bench_cfn.processes import free_port


@dataclass(frozen=True)
class ServerTls:
    right_ca: Path  # signed the server's certificate
    wrong_ca: Path  # a CA that did not


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str
    password: str
    database: str
    tls: ServerTls | None

    @property
    def cas(self) -> ServerTls:
        """The CAs of a server started with `tls=True`."""
        assert self.tls is not None, "this PostgreSQL was started without TLS"
        return self.tls

    @property
    def libpq_tls(self) -> dict[str, str]:
        """libpq parameters that verify this server (chain and host name), or none without TLS."""
        if self.tls is None:
            return {}
        return {"sslmode": "verify-full", "sslrootcert": str(self.tls.right_ca)}

    def url(self, database: str | None = None, with_password: bool = False, **query: str) -> str:
        secret = f":{quote(self.password, safe='')}" if with_password else ""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{database or self.database}{suffix}"

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        """A psycopg connection as the test's own client (verifying TLS when the server has it)."""
        import psycopg

        return psycopg.connect(
            self.url(database), password=self.password, connect_timeout=10, **self.libpq_tls, **kwargs
        )


def postgres_binaries(tls: bool) -> Path:
    """PostgreSQL's bin directory; skips (fails under CI) when it, or openssl for TLS, is missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    missing = [] if found else ["PostgreSQL (/usr/lib/postgresql/*/bin/initdb)"]
    if tls and shutil.which("openssl") is None:
        missing.append("openssl")
    if missing:
        message = f"not installed: {', '.join(missing)} (run scripts/bootstrap.sh)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return Path(found[-1]).parent


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", key, "-out", cert, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return key, cert


def _server_certificate(directory: Path) -> tuple[ServerTls, Path, Path]:
    """Two CAs and a server key + certificate for localhost/127.0.0.1 signed by the right one."""
    ca_key, right_ca = _make_ca(directory, "right-ca")
    _, wrong_ca = _make_ca(directory, "wrong-ca")
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", csr, "-CA", right_ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
             "-extfile", extensions, "-out", cert)  # fmt: skip
    key.chmod(0o600)
    return ServerTls(right_ca=right_ca, wrong_ca=wrong_ca), key, cert


def _server_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    users = {p.pw_name: p for p in pwd.getpwall()}
    return users.get("postgres") or users["nobody"]


@contextmanager
def running_postgres(log_dir: Path, tls: bool = False, max_connections: int = 60) -> Iterator[PostgresServer]:
    """Start the server (with an empty database `litellm` owned by `litellm`), yield it, stop it."""

    bin_dir = postgres_binaries(tls)
    owner = _server_user()
    as_owner: dict[str, Any] = {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid}
    base = Path(tempfile.mkdtemp(prefix="litellm-pg-"))
    try:
        server_tls, key, cert = _server_certificate(base) if tls else (None, None, None)
        pg = PostgresServer(free_port(), "litellm", GeneratedSecrets().db_password, "litellm", server_tls)
        password_file = base / "password"
        password_file.write_text(pg.password + "\n")
        if owner is not None:
            for path in (base, password_file, key, cert):
                if path is not None:
                    os.chown(path, owner.pw_uid, owner.pw_gid)
        data = base / "data"
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", pg.user, f"--pwfile={password_file}", "--auth=scram-sha-256"],
            check=True, capture_output=True, **as_owner,
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {pg.port} -c unix_socket_directories={base} "
            f"-c max_connections={max_connections}"
        )
        if tls:
            hosts = (f"hostssl all all {net} scram-sha-256" for net in ("127.0.0.1/32", "::1/128"))
            (data / "pg_hba.conf").write_text("\n".join(("local all all scram-sha-256", *hosts)) + "\n")
            options += f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        log = base / "postgres.log"
        started = subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"],
            capture_output=True, **as_owner,
        )  # fmt: skip
        try:
            assert started.returncode == 0, log.read_text(errors="replace") if log.exists() else started.stderr
            with pg.connect("postgres", autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{pg.database}"')
            yield pg
        finally:
            subprocess.run(
                [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, **as_owner
            )
            if log.exists():
                shutil.copy(log, log_dir / "postgres.log")
    finally:
        shutil.rmtree(base, ignore_errors=True)
