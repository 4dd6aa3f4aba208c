"""The stack's moving parts on one machine: the fake OpenAI endpoint and the real LiteLLM proxy,
the proxy started from the committed template's own task definition (see task_runtime).

What differs from ECS, and why:
- `docker/prod_entrypoint.sh` is a two-line shim that execs the locally installed `litellm`, the
  same thing the image's entrypoint does without its optional tracers;
- `BENCHMARK_API_BASE` points at the local fake endpoint and `PORT` at a free loopback port;
- no database: the DB path needs Prisma engine binaries that are downloaded at run time from a
  host this machine cannot reach, so the `DATABASE_*` variables are dropped (LiteLLM then runs
  without a DB, which it supports). Everything else (config text, start script, flags, LiteLLM
  environment) is taken from the template unchanged.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import proxy_config
from ..processes import ManagedProcess, free_port
from ..stack.compute import PROXY_CONTAINER
from ..task_runtime import ContainerLaunch, Resolver, container_launch
from .litellm_versions import litellm_bin_dir

PROXY_TASK_DEFINITION = "ProxyTaskDefinition"
DATABASE_ENV = (
    "DATABASE_HOST",
    "DATABASE_USERNAME",
    "DATABASE_PASSWORD",
    "DATABASE_NAME",
    "DATABASE_URL",
    "DATABASE_SSLMODE",
    "DATABASE_SSLROOTCERT",
)
ENTRYPOINT_SHIM = """#!/bin/sh
# Stand-in for the image's docker/prod_entrypoint.sh: exec the proxy CLI.
exec "{litellm}" "$@"
"""
PROXY_BOOT_TIMEOUT_S = 180
LOCAL_ENDPOINT_SWITCH = "InVpcFakeEndpoint"


def load_template(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


def find_litellm_cli() -> str:
    candidate = Path(sys.executable).with_name("litellm")
    found = str(candidate) if candidate.exists() else shutil.which("litellm")
    if not found:
        raise FileNotFoundError(
            "the `litellm` CLI is not installed; run scripts/bootstrap.sh (it installs litellm[proxy])"
        )
    return found


@dataclass(frozen=True)
class GeneratedSecrets:
    """Values standing in for what Secrets Manager generates in the stack."""

    master_key_secret: str = field(default_factory=lambda: secrets.token_hex(24))
    salt_key: str = field(default_factory=lambda: secrets.token_hex(24))
    db_password: str = "p@ss:w/rd#%&?="

    @property
    def master_key(self) -> str:
        return f"sk-{self.master_key_secret}"

    def by_logical_id(self) -> dict[str, str]:
        return {
            "MasterKeySecret": self.master_key_secret,
            "SaltKeySecret": self.salt_key,
            "DatabasePasswordSecret": self.db_password,
        }


def proxy_launch(
    template: Mapping[str, Any],
    *,
    api_base: str,
    test_secrets: GeneratedSecrets,
    parameter_overrides: Mapping[str, str] | None = None,
) -> ContainerLaunch:
    """The proxy container exactly as ECS would receive it (secrets replaced by test values)."""
    overrides = {"BenchmarkApiBase": api_base}
    if LOCAL_ENDPOINT_SWITCH in template.get("Parameters", {}):
        # The in-VPC endpoint's DNS name exists only inside the stack's VPC.
        overrides[LOCAL_ENDPOINT_SWITCH] = "false"
    resolver = Resolver(
        template=template,
        parameter_overrides={**overrides, **(parameter_overrides or {})},
        attributes={"Database.Endpoint.Address": "database.invalid", "Database.Endpoint.Port": "5432"},
    )
    return container_launch(resolver, PROXY_TASK_DEFINITION, PROXY_CONTAINER, test_secrets.by_logical_id())


@dataclass
class ProxyVariant:
    """A way to start the proxy differently from the template, for `bench compare`."""

    name: str = "shipped"
    extra_flags: tuple[str, ...] = ()
    drop_flags: tuple[str, ...] = ()
    """Flags removed from the start script's exec line (e.g. to compare without --run_gunicorn)."""
    env: Mapping[str, str | None] = field(default_factory=dict)
    """Environment changes; None removes the variable."""
    config_patch: Mapping[str, Any] = field(default_factory=dict)
    replace_config: bool = False
    """When true, `config_patch` is the whole config (e.g. LiteLLM defaults: models only)."""
    litellm_version: str | None = None
    """Another LiteLLM release (bench/litellm_versions.py); None: the pinned one installed here."""


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_variant(launch: ContainerLaunch, variant: ProxyVariant) -> ContainerLaunch:
    env = dict(launch.environment)
    if variant.config_patch:
        config = yaml.safe_load(env[proxy_config.CONFIG_ENV])
        new = dict(variant.config_patch) if variant.replace_config else _merge(config, variant.config_patch)
        env[proxy_config.CONFIG_ENV] = yaml.safe_dump(new, sort_keys=False)
    for name, value in variant.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    argv = list(launch.argv)
    for flag in variant.drop_flags:
        argv[-1] = argv[-1].replace(f" {flag}", "")
    if variant.extra_flags:
        # The start script ends with `exec docker/prod_entrypoint.sh ...`; flags go at its end.
        script = argv[-1].rstrip("\n") + " " + " ".join(variant.extra_flags) + "\n"
        argv[-1] = script
    return ContainerLaunch(argv=tuple(argv), environment=env, image=launch.image, port=launch.port)


@dataclass
class RunningStack:
    fake_endpoint: ManagedProcess
    fake_url: str
    proxy: ManagedProcess
    proxy_url: str
    master_key: str
    launch: ContainerLaunch
    boot_seconds: float


def fake_endpoint_process(workdir: Path, port: int, extra_args: tuple[str, ...] = ()) -> ManagedProcess:
    source = Path(__file__).resolve().parent.parent / "fake_endpoint.py"
    argv = [sys.executable, str(source), "--host", "127.0.0.1", "--port", str(port), *extra_args]
    return ManagedProcess("fake-openai-endpoint", argv, env=dict(os.environ), log_path=workdir / "fake_endpoint.log")


def container_root(root: Path, litellm_version: str | None = None) -> Path:
    """A working directory standing in for the image's /app: docker/prod_entrypoint.sh (the shim) and tmp/."""
    root = root.resolve()
    (root / "docker").mkdir(parents=True, exist_ok=True)
    shim = root / "docker" / "prod_entrypoint.sh"
    other_release = litellm_bin_dir(litellm_version)
    shim.write_text(ENTRYPOINT_SHIM.format(litellm=other_release / "litellm" if other_release else find_litellm_cli()))
    shim.chmod(0o755)
    (root / "tmp").mkdir(exist_ok=True)
    return root


def proxy_process(
    launch: ContainerLaunch, workdir: Path, port: int, workers: int, litellm_version: str | None = None
) -> ManagedProcess:
    """Run `launch` as the container would: its argv, its environment, cwd holding docker/."""
    root = container_root(workdir / "container", litellm_version)
    bin_dir = litellm_bin_dir(litellm_version) or Path(sys.executable).parent
    tmp = root / "tmp"
    env = {k: v for k, v in launch.environment.items() if k not in DATABASE_ENV}
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(root),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
            "PORT": str(port),
            "NUM_WORKERS": str(workers),
        }
    )
    return ManagedProcess("litellm proxy", launch.argv, env=env, cwd=root, log_path=workdir / "proxy.log")


@contextmanager
def running_stack(
    template: Mapping[str, Any],
    workdir: Path,
    *,
    workers: int,
    variant: ProxyVariant | None = None,
    fake_args: tuple[str, ...] = (),
    model_list_factory: Callable[[str], list[dict[str, Any]]] | None = None,
) -> Iterator[RunningStack]:
    """Start the fake endpoint and the proxy; stop both (by PID) whatever happens."""
    test_secrets = GeneratedSecrets()
    with ExitStack() as stack:
        fake_port = free_port()
        fake = stack.enter_context(fake_endpoint_process(workdir, fake_port, fake_args))
        fake_url = f"http://127.0.0.1:{fake_port}"
        fake.wait_http(f"{fake_url}/health", timeout=20)
        launch = proxy_launch(template, api_base=f"{fake_url}/", test_secrets=test_secrets)
        if model_list_factory is not None:
            models = model_list_factory(fake_url)
            launch = apply_variant(launch, ProxyVariant(name="scenario", config_patch={"model_list": models}))
        launch = apply_variant(launch, variant or ProxyVariant())
        proxy_port = free_port()
        proxy = stack.enter_context(
            proxy_process(launch, workdir, proxy_port, workers, (variant or ProxyVariant()).litellm_version)
        )
        proxy_url = f"http://127.0.0.1:{proxy_port}"
        boot = proxy.wait_http(f"{proxy_url}/health/readiness", timeout=PROXY_BOOT_TIMEOUT_S)
        yield RunningStack(
            fake_endpoint=fake,
            fake_url=fake_url,
            proxy=proxy,
            proxy_url=proxy_url,
            master_key=test_secrets.master_key,
            launch=launch,
            boot_seconds=boot,
        )
