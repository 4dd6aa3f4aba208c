"""The stack's moving parts on one machine: the fake OpenAI endpoint and the real LiteLLM proxy,
the proxy started from the committed template's own task definition (see task_runtime).

What differs from ECS, and why:
- `docker/prod_entrypoint.sh` is a two-line shim that execs the locally installed `litellm`, the
  same thing the image's entrypoint does without its optional tracers;
- `BENCHMARK_API_BASE` points at the local fake endpoint, `PORT` at a free loopback port, and
  `HOST` (the envvar of LiteLLM's `--host`) at 127.0.0.1: on AWS the proxy listens on 0.0.0.0
  for the load balancer, here nothing listens beyond loopback;
- a template whose proxy uses Redis gets a private `redis-server` (free loopback port, generated
  password, no persistence) as REDIS_HOST/PORT/PASSWORD, without TLS (REDIS_SSL=False):
  ElastiCache's in-transit encryption has no local counterpart;
- under uvicorn, `--log_config` makes uvicorn's own start-up lines visible (with the worker's pid)
  so the ready check can wait for every worker; its access log stays off (UVICORN_STARTUP_LOG_CONFIG);
- no database: the DB path needs Prisma engine binaries that are downloaded at run time from a
  host this machine cannot reach, so the `DATABASE_*` variables are dropped (LiteLLM then runs
  without a DB, which it supports). Everything else (config text, start script, flags, LiteLLM
  environment) is taken from the template unchanged.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import proxy_config
from ..cfn_reader import Resolver, TemplateResolutionError, load_cfn_yaml
from ..names import (
    DATABASE_ENV,
    DATABASE_PASSWORD_SECRET,
    IN_VPC_FAKE_ENDPOINT,
    MASTER_KEY_SECRET,
    PROXY_CONTAINER,
    PROXY_TASK_DEFINITION,
    REDIS_AUTH_TOKEN_SECRET,
    REDIS_REPLICATION_GROUP,
    SALT_KEY_SECRET,
)
from ..processes import ManagedProcess, ProcessFailed, free_port
from ..shipped import FAKE_ENDPOINT
from ..stack import redis as stack_redis
from ..task_runtime import ContainerLaunch, container_launch
from .litellm_versions import litellm_bin_dir

ENTRYPOINT_SHIM = """#!/bin/sh
# Stand-in for the image's docker/prod_entrypoint.sh: exec the proxy CLI.
exec "{litellm}" "$@"
"""
PROXY_BOOT_TIMEOUT_S = 180
LOCAL_ENDPOINT_SWITCH = IN_VPC_FAKE_ENDPOINT
REDIS_RESOURCE = REDIS_REPLICATION_GROUP
REDIS_SECRET = REDIS_AUTH_TOKEN_SECRET
LOOPBACK = "127.0.0.1"
WORKER_READY_LINE = re.compile(r"(?:\[(?P<pid>\d+)\] \[INFO\] )?Application startup complete")
"""What uvicorn logs once per worker when its app finished starting (gunicorn's format has the pid)."""
SPEC_KEYS = {"tasks", "litellm", "database", "scaling", "load_test", "harness", "redis", "https", "alarms"}


class TemplateError(ValueError):
    """The --template file cannot run as the local proxy; the message is one line."""


def load_template(path: Path) -> dict[str, Any]:
    """The template as a dict, or a one-line TemplateError saying what the file is instead."""
    try:
        document = load_cfn_yaml(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"--template: cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise TemplateError(
            f"--template: {path} is not YAML{line}; pass a rendered template such as templates/cloudformation-ecs.yaml"
        ) from exc
    if not isinstance(document, dict) or "Resources" not in document:
        if isinstance(document, dict) and SPEC_KEYS & set(document):
            raise TemplateError(
                f"--template: {path} is a spec file, not a template; render it first "
                f"(litellm-bench-cfn render --spec {path}) and pass the template it writes"
            )
        raise TemplateError(f"--template: {path} is not a CloudFormation template (no Resources)")
    resources = document["Resources"]
    if not isinstance(resources, dict) or PROXY_TASK_DEFINITION not in resources:
        raise TemplateError(
            f"--template: {path} has no {PROXY_TASK_DEFINITION} (the harness template runs the load, not the "
            "proxy); pass a proxy template such as templates/cloudformation-ecs.yaml"
        )
    return document


def uses_redis(template: Mapping[str, Any]) -> bool:
    return REDIS_RESOURCE in template.get("Resources", {})


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
    redis_password: str = field(default_factory=lambda: secrets.token_hex(24))

    @property
    def master_key(self) -> str:
        return f"sk-{self.master_key_secret}"

    def by_logical_id(self) -> dict[str, str]:
        return {
            MASTER_KEY_SECRET: self.master_key_secret,
            SALT_KEY_SECRET: self.salt_key,
            DATABASE_PASSWORD_SECRET: self.db_password,
            REDIS_SECRET: self.redis_password,
        }


def proxy_launch(
    template: Mapping[str, Any],
    *,
    api_base: str,
    test_secrets: GeneratedSecrets,
    parameter_overrides: Mapping[str, str] | None = None,
    redis_port: int | None = None,
) -> ContainerLaunch:
    """The proxy container exactly as ECS would receive it (secrets replaced by test values)."""
    overrides = {"BenchmarkApiBase": api_base}
    if LOCAL_ENDPOINT_SWITCH in template.get("Parameters", {}):
        # The in-VPC endpoint's DNS name exists only inside the stack's VPC.
        overrides[LOCAL_ENDPOINT_SWITCH] = "false"
    attributes = {"Database.Endpoint.Address": "database.invalid", "Database.Endpoint.Port": "5432"}
    if redis_port is not None:
        attributes[f"{REDIS_RESOURCE}.PrimaryEndPoint.Address"] = LOOPBACK
        attributes[f"{REDIS_RESOURCE}.PrimaryEndPoint.Port"] = str(redis_port)
    resolver = Resolver(
        template=template,
        parameter_overrides={**overrides, **(parameter_overrides or {})},
        attributes=attributes,
    )
    try:
        launch = container_launch(resolver, PROXY_TASK_DEFINITION, PROXY_CONTAINER, test_secrets.by_logical_id())
    except TemplateResolutionError as exc:
        raise TemplateError(f"--template: the proxy container cannot be resolved locally: {exc}") from exc
    if redis_port is not None:
        launch = apply_variant(launch, ProxyVariant(name="local-redis", env={stack_redis.SSL_ENV: "False"}))
    return launch


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


@dataclass(frozen=True)
class StackOptions:
    """What `running_stack` starts: the template whose proxy to run, where its files go, how."""

    template: Path
    workdir: Path
    workers: int = 1
    variant: ProxyVariant = field(default_factory=ProxyVariant)


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
    redis: ManagedProcess | None = None
    worker_pids: tuple[int, ...] = ()

    def processes(self) -> list[ManagedProcess]:
        return [p for p in (self.fake_endpoint, self.proxy, self.redis) if p is not None]


def find_redis_server() -> str:
    found = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None
    )
    if not found:
        raise FileNotFoundError(
            "this template's proxy uses Redis and redis-server is not installed (apt-get install redis-server, "
            "or run scripts/bootstrap.sh)"
        )
    return found


def redis_process(workdir: Path, port: int, password: str) -> ManagedProcess:
    data = workdir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = [
        find_redis_server(), "--bind", LOOPBACK, "--port", str(port), "--requirepass", password,
        "--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    return ManagedProcess("redis-server", argv, env=dict(os.environ), log_path=workdir / "redis.log")


def wait_tcp(process: ManagedProcess, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProcessFailed(f"{process.name} exited with status {process.poll()}:\n{process.log_tail()}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ProcessFailed(f"{process.name}: port {port} not open within {timeout:.0f}s:\n{process.log_tail()}")


NON_UVICORN_SERVERS = ("--run_gunicorn", "--run_granian", "--run_hypercorn")
UVICORN_STARTUP_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"worker": {"format": "[%(process)d] [%(levelname)s] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "worker", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}
"""Locally only: uvicorn's own start-up lines at INFO with the worker's pid, so the ready check can
see every worker finish starting (LITELLM_LOG=ERROR would silence them). Its access log stays
off: nothing is logged per request, so the measured proxy does the same work as in ECS."""


def ready_worker_pids(proxy: ManagedProcess) -> set[int]:
    """Live workers of the proxy that logged the end of their start-up (uvicorn's line, once per worker).

    gunicorn's log lines carry the worker's pid; uvicorn's own do not, so there each line counts as
    one of the proxy's live child processes."""
    import psutil

    try:
        root = psutil.Process(proxy.pid)
        live = {child.pid for child in root.children(recursive=True)} | {root.pid}
    except psutil.Error:
        return set()
    pids: set[int] = set()
    anonymous = 0
    for line in proxy.log_since_start().splitlines():
        match = WORKER_READY_LINE.search(line)
        if match is None:
            continue
        if match.group("pid"):
            pids.add(int(match.group("pid")))
        else:
            anonymous += 1
    ready = pids & live
    if anonymous:
        ready |= set(sorted(live)[:anonymous])
    return ready


def wait_all_workers(proxy: ManagedProcess, workers: int, timeout: float) -> tuple[int, ...]:
    """Block until `workers` distinct live workers finished starting (readiness alone is answered by
    the first worker up, while the others still boot and would start during the measured phase)."""
    deadline = time.monotonic() + timeout
    while True:
        if proxy.poll() is not None:
            raise ProcessFailed(f"{proxy.name} exited with status {proxy.poll()}:\n{proxy.log_tail()}")
        ready = ready_worker_pids(proxy)
        if len(ready) >= workers:
            return tuple(sorted(ready))
        if time.monotonic() > deadline:
            raise ProcessFailed(
                f"{proxy.name}: only {len(ready)} of {workers} worker(s) finished starting within {timeout:.0f}s:\n"
                f"{proxy.log_tail()}"
            )
        time.sleep(0.25)


def fake_endpoint_process(workdir: Path, port: int, extra_args: tuple[str, ...] = ()) -> ManagedProcess:
    source = FAKE_ENDPOINT
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
            "HOST": LOOPBACK,
            "NUM_WORKERS": str(workers),
        }
    )
    argv = list(launch.argv)
    if not any(flag in argv[-1] for flag in NON_UVICORN_SERVERS):
        log_config = root / "uvicorn-log.json"
        log_config.write_text(json.dumps(UVICORN_STARTUP_LOG_CONFIG))
        # The exec line ends the start script: the flag goes at its end, like a variant's.
        argv[-1] = f"{argv[-1].rstrip()} --log_config {log_config}\n"
    return ManagedProcess("litellm proxy", tuple(argv), env=env, cwd=root, log_path=workdir / "proxy.log")


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
    """Start the fake endpoint, Redis if the template uses it, and the proxy with every worker up;
    stop them all (by PID) whatever happens."""
    test_secrets = GeneratedSecrets()
    with ExitStack() as stack:
        redis = None
        redis_port = None
        if uses_redis(template):
            redis_port = free_port()
            redis = stack.enter_context(redis_process(workdir, redis_port, test_secrets.redis_password))
            wait_tcp(redis, redis_port, timeout=20)
        fake_port = free_port()
        fake = stack.enter_context(fake_endpoint_process(workdir, fake_port, fake_args))
        fake_url = f"http://127.0.0.1:{fake_port}"
        fake.wait_http(f"{fake_url}/health", timeout=20)
        launch = proxy_launch(template, api_base=f"{fake_url}/", test_secrets=test_secrets, redis_port=redis_port)
        if model_list_factory is not None:
            models = model_list_factory(fake_url)
            patch: dict[str, Any] = {"model_list": models}
            names = [m["model_name"] for m in models]
            if len(names) != len(set(names)):  # deployments to fail over to: LiteLLM's cooldowns (spec rule)
                patch["router_settings"] = {"disable_cooldowns": False}
            launch = apply_variant(launch, ProxyVariant(name="scenario", config_patch=patch))
        launch = apply_variant(launch, variant or ProxyVariant())
        proxy_port = free_port()
        proxy = stack.enter_context(
            proxy_process(launch, workdir, proxy_port, workers, (variant or ProxyVariant()).litellm_version)
        )
        proxy_url = f"http://127.0.0.1:{proxy_port}"
        started = time.monotonic()
        proxy.wait_http(f"{proxy_url}/health/readiness", timeout=PROXY_BOOT_TIMEOUT_S)
        worker_pids = wait_all_workers(proxy, workers, timeout=PROXY_BOOT_TIMEOUT_S)
        boot = time.monotonic() - started
        yield RunningStack(
            fake_endpoint=fake,
            fake_url=fake_url,
            proxy=proxy,
            proxy_url=proxy_url,
            master_key=test_secrets.master_key,
            launch=launch,
            boot_seconds=boot,
            redis=redis,
            worker_pids=worker_pids,
        )
