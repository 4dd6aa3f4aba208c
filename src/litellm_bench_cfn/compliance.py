"""Benchmark compliance: a rendered template (or a spec) against LiteLLM's benchmark guide.

The rows are seed 000's tables (hardware, database, model, load test, configuration settings,
optional features), with the values REFERENCE.md settles (db.r6g.xlarge-class DB, `openai/any`,
`between(0.5, 1)`). Everything is read from the template itself: parameter defaults, the task
definition, the LiteLLM config (the `LITELLM_CONFIG_YAML` environment value of the proxy
container), the DB instance and its parameter group, the load shape build_template records in the
template's `LitellmBenchCfn` Metadata; the Locust wait time from `loadtest/locustfile.py`. A spec
is rendered first.

Statuses: MATCH (as the guide), EXCEEDS (more than the guide asks), DIFFERS (less or other),
INFO (optional feature, never fails). Compliant = every required row MATCH or EXCEEDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from . import catalog
from .cfn_reader import Resolver, TemplateResolutionError, load_cfn_yaml
from .cfn_reader import is_template as is_template  # re-exported: the CLI asks compliance
from .names import (
    DATABASE_HOST_ENV,
    DATABASE_NAME_ENV,
    DATABASE_PASSWORD_ENV,
    DATABASE_URL_ENV,
    DATABASE_USERNAME_ENV,
    LOAD_TEST_METADATA,
    TOOL_METADATA,
)
from .proxy_config import CONFIG_ENV
from .render import template_to_dict
from .spec import BenchmarkSpec, SpecError, parse_spec_text
from .stack.service_discovery import IN_VPC_FAKE_ENDPOINT_URL
from .template import GUIDE_FAKE_ENDPOINT, build_template

Status = Literal["MATCH", "EXCEEDS", "DIFFERS", "INFO"]
PASSING: frozenset[str] = frozenset({"MATCH", "EXCEEDS"})
GUIDE_URL = "https://docs.litellm.ai/docs/benchmarks"
SECTIONS = (
    "Hardware",
    "Database",
    "Model configuration",
    "Load test (Locust)",
    "Configuration settings",
    "Optional features",
)


@dataclass(frozen=True)
class Row:
    section: str
    requirement: str
    guide: str
    found: str
    status: Status
    required: bool = True


@dataclass(frozen=True)
class LoadTest:
    users: int | None
    spawn_rate: float | None
    duration_s: int | None


@dataclass(frozen=True)
class StackFacts:
    """What the checks need, read out of one template."""

    cpu_units: int | None
    memory_mib: int | None
    desired_count: int | None
    workers: int | None
    engine: str | None
    engine_version: str | None
    db_class: str | None
    storage_gib: int | None
    storage_type: str
    iops: int | None
    throughput_mibps: int | None
    max_connections: int | None
    config: dict[str, Any]
    env: dict[str, Any]
    secret_names: frozenset[str]
    command: str
    api_base_default: str | None
    load_test: LoadTest
    has_redis_resource: bool


# ---------------------------------------------------------------- reading a template


def load_document(text: str, source: str) -> Any:
    try:
        return load_cfn_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise SpecError([f"{where}: not valid YAML or JSON ({getattr(exc, 'problem', exc)})"]) from None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _resources_of(doc: dict[str, Any], type_name: str) -> list[dict[str, Any]]:
    return [r for _, r in sorted(doc.get("Resources", {}).items()) if r.get("Type") == type_name]


def _proxy_container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = [
        c for td in _resources_of(doc, "AWS::ECS::TaskDefinition") for c in td["Properties"]["ContainerDefinitions"]
    ]
    for container in containers:
        if any(e.get("Name") == CONFIG_ENV for e in container.get("Environment", [])):
            found: dict[str, Any] = container
            return found
    for container in containers:
        if "litellm" in str(container.get("Image", "")):
            found = container
            return found
    raise SpecError(["template: no ECS container definition of the LiteLLM proxy found"])


def _command_text(container: dict[str, Any]) -> str:
    parts = [*container.get("EntryPoint", []), *container.get("Command", [])]
    return " ".join(str(p) for p in parts)


def _flag(command: str, name: str) -> str | None:
    match = re.search(rf"--{name}[ =]+\"?([^\s\"]+)", command)
    return match.group(1) if match else None


def _load_test_from_metadata(doc: dict[str, Any]) -> LoadTest:
    """The load shape build_template recorded in the template's Metadata (absent: nothing known)."""
    metadata = doc.get("Metadata")
    tool = metadata.get(TOOL_METADATA) if isinstance(metadata, dict) else None
    shape = tool.get(LOAD_TEST_METADATA) if isinstance(tool, dict) else None
    if not isinstance(shape, dict):
        shape = {}
    rate = shape.get("spawn_rate")
    return LoadTest(
        users=_int(shape.get("users")),
        spawn_rate=float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None,
        duration_s=_int(shape.get("duration_s")),
    )


def facts_from_template(doc: dict[str, Any]) -> StackFacts:
    params = doc.get("Parameters", {})
    on_defaults = Resolver(doc)

    def resolve(value: Any) -> Any:
        """A parameter reference or condition (e.g. InVpcFakeEndpoint) on the defaults; anything else as written."""
        if isinstance(value, dict) and (set(value) == {"Fn::If"} or (set(value) == {"Ref"} and value["Ref"] in params)):
            try:
                return on_defaults.resolve(value)
            except (TemplateResolutionError, KeyError, TypeError, ValueError):
                return value
        return value

    container = _proxy_container(doc)
    env = {e["Name"]: resolve(e.get("Value")) for e in container.get("Environment", [])}
    secrets = frozenset(s["Name"] for s in container.get("Secrets", []))
    command = _command_text(container)
    try:
        config = yaml.safe_load(str(env.get(CONFIG_ENV) or "")) or {}
    except yaml.YAMLError:
        config = {}
    task_defs = _resources_of(doc, "AWS::ECS::TaskDefinition")
    task_props: dict[str, Any] = next(
        (td["Properties"] for td in task_defs if container in td["Properties"]["ContainerDefinitions"]), {}
    )
    services = _resources_of(doc, "AWS::ECS::Service")
    desired = _int(resolve(services[0]["Properties"].get("DesiredCount"))) if services else None
    workers = _int(env.get("NUM_WORKERS")) or _int(_flag(command, "num_workers"))
    if workers is None and "--num_workers" not in command:
        workers = 1  # LiteLLM's default

    dbs = _resources_of(doc, "AWS::RDS::DBInstance")
    db = dbs[0]["Properties"] if dbs else {}
    db_class = resolve(db.get("DBInstanceClass"))
    storage_type = str(db.get("StorageType", "gp2"))
    size = _int(db.get("AllocatedStorage"))
    max_conn = None
    group_ref = db.get("DBParameterGroupName")
    if isinstance(group_ref, dict) and "Ref" in group_ref:
        group = doc.get("Resources", {}).get(group_ref["Ref"], {})
        max_conn = _int(group.get("Properties", {}).get("Parameters", {}).get("max_connections"))
    if max_conn is None and db_class in catalog.DB_INSTANCE_CLASSES:
        max_conn = catalog.DB_INSTANCE_CLASSES[db_class].default_max_connections
    iops, mibps = _int(db.get("Iops")), _int(db.get("StorageThroughput"))
    rules = catalog.STORAGE_RULES.get(storage_type)
    if storage_type == "gp3" and rules and size is not None and rules.baseline_below and rules.baseline_from:
        baseline = rules.baseline_from if size >= (rules.provisioned_from_gib or 0) else rules.baseline_below
        iops, mibps = iops or baseline[0], mibps or baseline[1]
    elif storage_type == "gp2" and size is not None:
        iops = min(16000, max(100, 3 * size))

    api_base_default: str | None = None
    for deployment in config.get("model_list") or []:
        base = str((deployment.get("litellm_params") or {}).get("api_base", ""))
        if base.startswith("os.environ/"):
            value = env.get(base.removeprefix("os.environ/"))
            api_base_default = str(value) if value is not None else None
        else:
            api_base_default = base or None
        break
    return StackFacts(
        cpu_units=_int(resolve(task_props.get("Cpu"))),
        memory_mib=_int(resolve(task_props.get("Memory"))),
        desired_count=desired,
        workers=workers,
        engine=db.get("Engine"),
        engine_version=str(db["EngineVersion"]) if "EngineVersion" in db else None,
        db_class=str(db_class) if db_class is not None else None,
        storage_gib=size,
        storage_type=storage_type,
        iops=iops,
        throughput_mibps=mibps,
        max_connections=max_conn,
        config=config if isinstance(config, dict) else {},
        env=env,
        secret_names=secrets,
        command=command,
        api_base_default=api_base_default,
        load_test=_load_test_from_metadata(doc),
        has_redis_resource=bool(_resources_of(doc, "AWS::ElastiCache::ReplicationGroup")),
    )


def facts_from_spec(spec: BenchmarkSpec) -> StackFacts:
    return facts_from_template(template_to_dict(build_template(spec)))


WAIT_TIME = re.compile(r"wait_time\s*=\s*(between|constant)\(\s*([0-9.]+)\s*(?:,\s*([0-9.]+)\s*)?\)")


def locust_wait_time(path: Path | None) -> tuple[float, float] | None:
    if path is None or not path.is_file():
        return None
    match = WAIT_TIME.search(path.read_text(encoding="utf-8"))
    if not match:
        return None
    low = float(match.group(2))
    return (low, float(match.group(3))) if match.group(1) == "between" and match.group(3) else (low, low)


# ---------------------------------------------------------------- the checks


def _at_least(value: float | None, guide: float) -> Status:
    if value is None:
        return "DIFFERS"
    return "MATCH" if value == guide else "EXCEEDS" if value > guide else "DIFFERS"


def _in_range(value: float | None, low: float, high: float) -> Status:
    if value is None:
        return "DIFFERS"
    return "MATCH" if low <= value <= high else "EXCEEDS" if value > high else "DIFFERS"


def _equal(value: Any, guide: Any) -> Status:
    return "MATCH" if value == guide else "DIFFERS"


def _num(value: float | None, unit: str = "") -> str:
    return "not set" if value is None else f"{value:g}{unit}"


def _hardware(f: StackFacts) -> list[Row]:
    s = "Hardware"
    vcpu = f.cpu_units / 1024 if f.cpu_units else None
    mem = f.memory_mib / 1024 if f.memory_mib else None
    total = f.desired_count * f.workers if f.desired_count and f.workers else None
    return [
        Row(s, "CPU per instance", "4 cores", f"{_num(vcpu)} vCPU ({_num(f.cpu_units)} units)", _at_least(vcpu, 4)),
        Row(s, "RAM per instance", "8 GB", f"{_num(f.memory_mib)} MiB ({_num(mem)} GB)", _at_least(mem, 8)),
        Row(s, "Number of instances", "4", f"{_num(f.desired_count)} (desired count)", _at_least(f.desired_count, 4)),
        Row(s, "Workers per instance", "4", _num(f.workers), _at_least(f.workers, 4)),
        Row(s, "Total workers", "16", _num(total), _at_least(total, 16)),
    ]


def _database(f: StackFacts) -> list[Row]:
    s = "Database"
    cls = catalog.DB_INSTANCE_CLASSES.get(f.db_class or "")
    vcpu, mem = (cls.vcpu, cls.memory_gib) if cls else (None, None)
    name = f.db_class or "no DB instance"
    ssd = f.storage_type in {"gp2", "gp3", "io1", "io2"}
    storage_status = _at_least(f.storage_gib, 200) if ssd else "DIFFERS"
    batch = (f.config.get("general_settings") or {}).get("proxy_batch_write_at")
    return [
        Row(
            s,
            "Database type",
            "PostgreSQL",
            f"PostgreSQL {f.engine_version}" if f.engine == "postgres" else str(f.engine),
            _equal(f.engine, "postgres"),
        ),
        Row(s, "CPU cores", "4-8 cores", f"{name} ({_num(vcpu)} vCPU)", _in_range(vcpu, 4, 8)),
        Row(s, "RAM", "16 GB", f"{name} ({_num(mem)} GiB)", _at_least(mem, 16)),
        Row(s, "Storage", "200 GB SSD", f"{_num(f.storage_gib)} GB {f.storage_type}", storage_status),
        Row(s, "IOPS", "3,000+", f"{_num(f.iops)} IOPS ({f.storage_type})", _at_least(f.iops, 3000)),
        Row(s, "Throughput", "not specified", f"{_num(f.throughput_mibps)} MiB/s", "INFO", required=False),
        Row(
            s,
            "Connections",
            "100-200",
            f"max_connections {_num(f.max_connections)}",
            _in_range(f.max_connections, 100, 200),
        ),
        Row(s, "Batch writes", "proxy_batch_write_at: 60", f"proxy_batch_write_at: {batch}", _equal(batch, 60)),
    ]


def _model(f: StackFacts) -> list[Row]:
    s = "Model configuration"
    models = f.config.get("model_list") or []
    bench = next((m for m in models if m.get("model_name") == "fake-openai-endpoint"), None)
    params = (bench or {}).get("litellm_params") or {}
    names = ", ".join(str(m.get("model_name")) for m in models) or "none"
    raw_base = str(params.get("api_base", "not set"))
    base_found = raw_base
    if raw_base.startswith("os.environ/"):
        base_found = f"{raw_base} (default {f.api_base_default})"
    # The product's own fake endpoint inside the VPC (harness stack) stands in for the guide's public one.
    base_status: Status = (
        "MATCH" if f.api_base_default in (GUIDE_FAKE_ENDPOINT, IN_VPC_FAKE_ENDPOINT_URL) else "DIFFERS"
    )
    return [
        Row(
            s,
            "Model name",
            "fake-openai-endpoint",
            "fake-openai-endpoint" if bench else names,
            "MATCH" if bench else "DIFFERS",
        ),
        Row(
            s,
            "Model param",
            "openai/any",
            str(params.get("model", "not set")),
            _equal(params.get("model"), "openai/any"),
        ),
        Row(s, "API key", "test", str(params.get("api_key", "not set")), _equal(params.get("api_key"), "test")),
        Row(s, "API base", GUIDE_FAKE_ENDPOINT, base_found, base_status, required=False),
    ]


def _load_test(f: StackFacts, wait: tuple[float, float] | None, locustfile: str) -> list[Row]:
    s = "Load test (Locust)"
    lt = f.load_test
    wait_row = (
        Row(s, "Wait time", "between(0.5, 1)", "no locustfile found", "INFO", required=False)
        if wait is None
        else Row(
            s,
            "Wait time",
            "between(0.5, 1)",
            f"between({wait[0]:g}, {wait[1]:g}) in {locustfile}",
            _equal(wait, (0.5, 1.0)),
        )
    )
    return [
        Row(s, "Concurrent users", "1,000", _num(lt.users), _equal(lt.users, 1000)),
        Row(s, "Spawn rate", "500 users/s", f"{_num(lt.spawn_rate)} users/s", _equal(lt.spawn_rate, 500)),
        Row(s, "Test duration", "5 minutes", _num(lt.duration_s, " s"), _equal(lt.duration_s, 300)),
        wait_row,
    ]


def _env_provided(f: StackFacts, name: str) -> bool:
    return name in f.env or name in f.secret_names or f"export {name}=" in f.command


def _settings(f: StackFacts) -> list[Row]:
    s = "Configuration settings"
    general = f.config.get("general_settings") or {}
    key = str(general.get("master_key", "not set"))
    key_env = key.removeprefix("os.environ/") if key.startswith("os.environ/") else None
    key_ok = key_env is not None and _env_provided(f, key_env)
    db_url = str(general.get("database_url", ""))
    if db_url.startswith("os.environ/") and _env_provided(f, db_url.removeprefix("os.environ/")):
        db_found, db_ok = db_url, True
    elif _env_provided(f, DATABASE_URL_ENV):
        db_found, db_ok = DATABASE_URL_ENV, True
    else:
        parts = (DATABASE_HOST_ENV, DATABASE_USERNAME_ENV, DATABASE_PASSWORD_ENV, DATABASE_NAME_ENV)
        db_ok = all(_env_provided(f, p) for p in parts)
        secret = " (password from Secrets Manager)" if DATABASE_PASSWORD_ENV in f.secret_names else ""
        db_found = f"{', '.join(parts)}{secret}" if db_ok else "no database connection in the environment"
    debug = "--detailed_debug" in f.command or str(f.env.get("LITELLM_LOG", "")).upper() == "DEBUG"
    store = general.get("store_model_in_db")
    return [
        Row(
            s,
            "proxy_batch_write_at",
            "60",
            str(general.get("proxy_batch_write_at", "not set")),
            _equal(general.get("proxy_batch_write_at"), 60),
        ),
        Row(s, "store_model_in_db", "true", str(store).lower(), _equal(store, True)),
        Row(
            s,
            "master_key",
            "via env var",
            f"{key} ({'ECS secret' if key_ok else 'not provided'})",
            "MATCH" if key_ok else "DIFFERS",
        ),
        Row(s, "Database connection", "via env var", db_found, "MATCH" if db_ok else "DIFFERS"),
        Row(
            s,
            "Debug logging",
            "off (--detailed_debug costs ~17x)",
            "on" if debug else f"off (LITELLM_LOG={f.env.get('LITELLM_LOG', 'unset')})",
            "DIFFERS" if debug else "MATCH",
        ),
    ]


def _optional(f: StackFacts) -> list[Row]:
    s = "Optional features"
    settings = {**(f.config.get("litellm_settings") or {}), **(f.config.get("router_settings") or {})}
    redis = f.has_redis_resource or "REDIS_HOST" in f.env or "redis_host" in settings or "cache" in settings
    callbacks = " ".join(str(v) for k, v in sorted(settings.items()) if "callback" in k)
    return [
        Row(
            s, "Redis cache", "optional (2-4 cores, 8 GB RAM)", "configured" if redis else "not included", "INFO", False
        ),
        Row(
            s,
            "GCS logging",
            "tested, minimal impact",
            "configured" if "gcs" in callbacks else "not configured",
            "INFO",
            False,
        ),
        Row(
            s,
            "LangSmith logging",
            "tested, minimal impact",
            "configured" if "langsmith" in callbacks else "not configured",
            "INFO",
            False,
        ),
    ]


def check(facts: StackFacts, wait: tuple[float, float] | None, locustfile: str = "loadtest/locustfile.py") -> list[Row]:
    sections: tuple[Callable[[], list[Row]], ...] = (
        lambda: _hardware(facts),
        lambda: _database(facts),
        lambda: _model(facts),
        lambda: _load_test(facts, wait, locustfile),
        lambda: _settings(facts),
        lambda: _optional(facts),
    )
    return [row for section in sections for row in section()]


def is_compliant(rows: list[Row]) -> bool:
    return all(row.status in PASSING for row in rows if row.required)


def facts_from_text(text: str, source: str) -> tuple[StackFacts, str]:
    """(facts, kind) from a template or a spec file's text; kind is 'template' or 'spec'."""
    document = load_document(text, source)
    if is_template(document):
        try:
            return facts_from_template(document), "template"
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpecError([f"{source}: not a template this tool can read ({exc!r} missing or malformed)"]) from None
    return facts_from_spec(parse_spec_text(text, source)), "spec"


# ---------------------------------------------------------------- output


def _verdict(rows: list[Row]) -> str:
    failing = [r for r in rows if r.required and r.status not in PASSING]
    if not failing:
        return "COMPLIANT: every required row matches or exceeds the guide."
    names = ", ".join(f"{r.section}/{r.requirement}" for r in failing)
    return f"NOT COMPLIANT: {len(failing)} required row(s) differ: {names}."


def format_text(rows: list[Row], source: str) -> str:
    head = ("Section", "Requirement", "Guide", "Found", "Status")
    cells = [
        (r.section, r.requirement, r.guide, r.found, r.status + ("" if r.required else " (optional)")) for r in rows
    ]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(5)]
    lines = [f"Benchmark compliance of {source} against {GUIDE_URL}"]
    for c in [head, tuple("-" * w for w in widths), *cells]:
        lines.append("  ".join(f"{v:<{widths[i]}}" for i, v in enumerate(c)).rstrip())
    lines.append(_verdict(rows))
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(rows: list[Row], source: str) -> str:
    out = [
        f"# Benchmark compliance: `{source}`",
        "",
        f"<!-- Generated by `litellm-bench-cfn compliance {source} --markdown --output FILE`. Do not edit: -->",
        f"<!-- `litellm-bench-cfn compliance {source} --markdown --check FILE` fails when this file is stale. -->",
        "",
        f"Checked against LiteLLM's [benchmark guide]({GUIDE_URL}). MATCH = as the guide; EXCEEDS = more than",
        "the guide asks; DIFFERS = less or other; INFO = optional, never fails. Required rows must MATCH or EXCEED.",
        "Performance targets (~1,170 RPS, median 100 ms, p95 150 ms, p99 240 ms at 4 instances) are measured by a",
        "benchmark run, not by this static check.",
        "",
        f"**Result: {_verdict(rows)}**",
    ]
    for number, section in enumerate(SECTIONS, start=1):
        section_rows = [r for r in rows if r.section == section]
        if not section_rows:
            continue
        out += [
            "",
            f"## {number}. {section}",
            "",
            "| Requirement | Benchmark guide | Found | Status |",
            "| --- | --- | --- | --- |",
        ]
        for r in section_rows:
            status = r.status if r.required else f"{r.status} (optional)"
            out.append(f"| {_md(r.requirement)} | {_md(r.guide)} | {_md(r.found)} | {status} |")
    return "\n".join(out) + "\n"
