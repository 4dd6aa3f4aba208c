"""Verified TLS to RDS: the region's RDS CA bundle reaches every container that talks to the database.

Without `DATABASE_SSLMODE` / `DATABASE_SSLROOTCERT` LiteLLM connects with libpq's `sslmode=prefer`:
encrypted (the parameter group sets `rds.force_ssl`) but the server certificate is never checked. With
them, LiteLLM 1.106.2 builds `...?sslmode=verify-full&sslrootcert=FILE` from the DATABASE_* variables
(`construct_database_url_from_env_vars`), rewrites it for Prisma (`sslmode=require&sslcert=<the one root
of the bundle that verifies the server>&sslaccept=strict`: Prisma ignores `sslrootcert` and reads one
certificate only) and back for psycopg, which the migration job's index builder uses.

Delivery: the bundle is not in the image, and the template cannot carry it (the global bundle is
~160 KB, a template body at most 51,200 bytes). A non-essential init container `rds-ca-bundle`
downloads the stack region's bundle (a few KB) over HTTPS from AWS's trust store into a task volume
and exits 0; the containers that open DB connections mount the volume read-only and start only after
it succeeded. If the download fails or is not a PEM bundle it exits 1 with one line naming the URL,
so the proxy never starts unverified. It runs LiteLLM's own image (already pulled for the task).
"""

from __future__ import annotations

from troposphere import Sub, ecs

from ..names import DATABASE_SSLMODE_ENV, DATABASE_SSLROOTCERT_ENV, DATABASE_TLS_CONTAINER
from . import ecs_tasks

SSLMODE = "verify-full"
VOLUME = "rds-ca"
MOUNT_PATH = "/rds-ca"
BUNDLE_PATH = f"{MOUNT_PATH}/rds-ca-bundle.pem"
CONTAINER = DATABASE_TLS_CONTAINER
BUNDLE_URL_ENV = "RDS_CA_BUNDLE_URL"
BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/${AWS::Region}/${AWS::Region}-bundle.pem"

FETCH_SCRIPT = """\
import certifi, os, ssl, sys, time, urllib.request
url, path = os.environ["RDS_CA_BUNDLE_URL"], os.environ["DATABASE_SSLROOTCERT"]
context = ssl.create_default_context(cafile=certifi.where())
for wait in (5, 10, 0):
    try:
        body = urllib.request.urlopen(url, timeout=20, context=context).read()
        break
    except OSError as error:
        problem = error
        time.sleep(wait)
else:
    sys.exit(f"litellm-bench-cfn: cannot fetch the RDS CA bundle {url}: {problem}")
if b"-----BEGIN CERTIFICATE-----" not in body:
    sys.exit(f"litellm-bench-cfn: {url} is not a PEM certificate bundle")
open(path, "wb").write(body)
"""


def environment() -> dict[str, str]:
    """What a DB client container needs: LiteLLM then verifies the chain and the host name."""
    return {DATABASE_SSLMODE_ENV: SSLMODE, DATABASE_SSLROOTCERT_ENV: BUNDLE_PATH}


def volume() -> ecs.Volume:
    return ecs.Volume(Name=VOLUME)


def fetch_container(image: str, log_configuration: ecs.LogConfiguration) -> ecs.ContainerDefinition:
    return ecs_tasks.script_container(
        CONTAINER,
        image,
        FETCH_SCRIPT,
        essential=False,
        interpreter=("python3", "-c"),
        Environment=ecs_tasks.environment({DATABASE_SSLROOTCERT_ENV: BUNDLE_PATH, BUNDLE_URL_ENV: Sub(BUNDLE_URL)}),
        MountPoints=[ecs.MountPoint(SourceVolume=VOLUME, ContainerPath=MOUNT_PATH, ReadOnly=False)],
        LogConfiguration=log_configuration,
    )


def verified_client(container: ecs.ContainerDefinition) -> ecs.ContainerDefinition:
    """`container` with the TLS settings, the bundle mounted read-only, and started after the fetch."""
    properties = dict(container.properties)
    plain = [*properties.get("Environment", []), *ecs_tasks.environment(environment())]
    properties["Environment"] = sorted(plain, key=lambda e: e.Name)
    properties["MountPoints"] = [
        *properties.get("MountPoints", []),
        ecs.MountPoint(SourceVolume=VOLUME, ContainerPath=MOUNT_PATH, ReadOnly=True),
    ]
    properties["DependsOn"] = [
        ecs.ContainerDependency(ContainerName=CONTAINER, Condition="SUCCESS"),
        *properties.get("DependsOn", []),
    ]
    return ecs.ContainerDefinition(**properties)
