"""A stand-in for the Prisma CLI, for tests that run LiteLLM's real migration code against a local PostgreSQL.

The real CLI cannot run here: it downloads its engines at run time from a host this machine cannot reach.
This emulates the two commands `litellm --skip_server_startup` runs when nothing goes wrong, the way Prisma
does them on PostgreSQL:
- `prisma --version` (LiteLLM's toolchain bootstrap) prints a version;
- `prisma migrate deploy` takes Prisma's session advisory lock (key 72707369, so concurrent deploys queue),
  creates the `_prisma_migrations` ledger, applies every migration directory of the current directory's
  `migrations/` (LiteLLM runs it from litellm_proxy_extras, its shipped migrations) that the ledger has not
  finished, each as one script, records it, and prints "No pending migrations to apply." when there is none.
It connects with Prisma's TLS settings of DATABASE_URL as Prisma's engine reads them (`sslcert` is the CA,
`sslaccept=strict` checks chain and host name, an absent `sslaccept` accepts any certificate), in libpq terms.
Anything else exits 1 with one line on stderr: LiteLLM's recovery paths (resolve, diff) are not emulated.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

PRISMA_ADVISORY_LOCK_KEY = 72707369
LEDGER = (
    'CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY, "checksum" VARCHAR(64) NOT NULL, '
    '"finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, '
    '"started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)'
)


def libpq_url(prisma_url: str) -> str:
    """Prisma's URL in libpq terms: its TLS settings translated, its other query parameters (connection_limit,
    pool_timeout, ...), which libpq refuses, dropped."""
    parts = urlsplit(prisma_url)
    query = dict(parse_qsl(parts.query))
    libpq: dict[str, str] = {}
    if query.get("sslmode") in ("disable", "prefer", "require"):
        libpq["sslmode"] = query["sslmode"]
    strict = query.get("sslaccept", "accept_invalid_certs") != "accept_invalid_certs"
    if "sslcert" in query and strict and libpq.get("sslmode") != "disable":
        libpq |= {"sslmode": "verify-full", "sslrootcert": query["sslcert"]}
    return urlunsplit(parts._replace(query=urlencode(libpq)))


def migrate_deploy(database_url: str, migrations_dir: Path) -> None:
    migrations = sorted(p for p in migrations_dir.iterdir() if (p / "migration.sql").is_file())
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (PRISMA_ADVISORY_LOCK_KEY,))
        connection.execute(LEDGER)
        finished = {
            row[0]
            for row in connection.execute(
                'SELECT migration_name FROM "_prisma_migrations" '
                "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"
            )
        }
        pending = [m for m in migrations if m.name not in finished]
        print(f"{len(migrations)} migrations found in prisma/migrations")
        if not pending:
            print("No pending migrations to apply.")
            return
        for migration in pending:
            script = (migration / "migration.sql").read_text()
            row_id = str(uuid.uuid4())
            connection.execute(
                'INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES (%s, %s, %s)',
                (row_id, hashlib.sha256(script.encode()).hexdigest(), migration.name),
            )
            # No parameters: psycopg sends the script as one simple query, as Prisma does.
            connection.execute(script.encode())
            connection.execute(
                'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = %s', (row_id,)
            )
            print(f"Applying migration `{migration.name}`")
        print("All migrations have been successfully applied.")


def main(argv: list[str]) -> int:
    if argv in (["--version"], ["-v"], ["version"]):
        print("prisma (emulated by the test suite)")
        return 0
    if argv[:2] == ["migrate", "deploy"]:
        migrate_deploy(os.environ["DATABASE_URL"], Path.cwd() / "migrations")
        return 0
    print(f"emulated prisma: {' '.join(argv)!r} is not emulated", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
