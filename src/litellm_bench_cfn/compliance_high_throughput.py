"""Compliance against LiteLLM's high-throughput benchmark (docs "benchmarks", the 3,000 RPS test).

The methodology rows: the fleet (33 x 4 vCPU / 16 GiB, 4 workers), PostgreSQL with PgBouncer
sharing 8 connections per gateway, Redis, the high-throughput settings (Helm values translated to
ECS, see profiles/high-throughput.yaml), the in-process mock model, and the load of
`loadtest/high_throughput.py`. Read from the rendered template and the load file's constants, as
`compliance` does for the 1K test. Where Fargate cannot do what Kubernetes does (the 620 s
termination grace), the row says so and does not fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .compliance import Row, Status, _proxy_container, _resources_of, format_text
from .proxy_config import CONFIG_ENV

SECTIONS = ("Deployment", "Database and Redis", "Gateway settings", "Model", "Rollout and scaling", "Load")


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e.get("Value") for e in container.get("Environment", [])}


def _status(ok: bool) -> Status:
    return "MATCH" if ok else "DIFFERS"


def _param_default(doc: dict[str, Any], name: str) -> Any:
    return doc.get("Parameters", {}).get(name, {}).get("Default")


def _load_constants(locustfile: Path | None) -> dict[str, str]:
    text = locustfile.read_text(encoding="utf-8") if locustfile and locustfile.is_file() else ""
    found = {}
    for name in ("PROMPT_TOKENS", "MAX_TOKENS", "CLIENT_TIMEOUT_S", "PATH"):
        match = re.search(rf"^{name} = (.+)$", text, re.MULTILINE)
        found[name] = match.group(1).strip() if match else "-"
    share = re.search(r'STREAM_SHARE = float\(os.getenv\("HT_STREAM_SHARE"\) or ([0-9.]+)\)', text)
    found["STREAM_SHARE"] = share.group(1) if share else "-"
    wait = re.search(r"wait_time = (constant_throughput\([0-9.]+\))", text)
    found["wait_time"] = wait.group(1) if wait else "-"
    return found


def check(doc: dict[str, Any], locustfile: Path | None) -> list[Row]:
    proxy = _proxy_container(doc)
    env = _env(proxy)
    config = yaml.safe_load(env.get(CONFIG_ENV) or "{}") or {}
    general, settings = config.get("general_settings", {}), config.get("litellm_settings", {})
    task_defs = _resources_of(doc, "AWS::ECS::TaskDefinition")
    containers = {c["Name"] for td in task_defs for c in td["Properties"]["ContainerDefinitions"]}
    services = _resources_of(doc, "AWS::ECS::Service")
    deployment = services[0]["Properties"].get("DeploymentConfiguration", {}) if services else {}
    policies = [p["Properties"]["TargetTrackingScalingPolicyConfiguration"] for p in _resources_of(
        doc, "AWS::ApplicationAutoScaling::ScalingPolicy")]  # fmt: skip
    by_metric = {p["PredefinedMetricSpecification"]["PredefinedMetricType"]: p["TargetValue"] for p in policies}
    tasks, cpu, memory = (_param_default(doc, n) for n in ("DesiredTaskCount", "TaskCpu", "TaskMemory"))
    workers = _param_default(doc, "WorkersPerTask")
    models = config.get("model_list", [])
    mock = bool(models) and all("mock_response" in m.get("litellm_params", {}) for m in models)
    load = _load_constants(locustfile)
    rows: list[Row] = []

    def add(section: str, requirement: str, published: str, found: Any, ok: bool, required: bool = True) -> None:
        rows.append(Row(section, requirement, published, str(found), _status(ok) if required else "INFO", required))

    add("Deployment", "gateways", "33", tasks, str(tasks) == "33")
    add("Deployment", "vCPU / memory per gateway", "4 vCPU / 16 GiB", f"{cpu} CPU units / {memory} MiB",
        (str(cpu), str(memory)) == ("4096", "16384"))  # fmt: skip
    add("Deployment", "workers per gateway", "4", workers, str(workers) == "4")
    add("Deployment", "spend-collector sidecar", "one per pod", "container `collector`" if "collector" in containers
        else "none", "collector" in containers and env.get("LITELLM_COLLECTOR_ENABLED") == "true")  # fmt: skip
    metrics_port = env.get("PROMETHEUS_METRICS_PORT")
    add("Deployment", "metrics process", "metrics-server sidecar per pod", f"PROMETHEUS_METRICS_PORT={metrics_port}",
        bool(metrics_port))  # fmt: skip
    pool = (env.get("LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"), env.get("LITELLM_PGBOUNCER_MAX_CLIENT_CONN"))
    add("Database and Redis", "PgBouncer", "8 PostgreSQL connections per pod, maxClientConn 1000",
        f"in-container: {pool[0]} / {pool[1]}",
        env.get("LITELLM_PGBOUNCER_ENABLED") == "true" and pool[0] == "8")  # fmt: skip
    add("Database and Redis", "PostgreSQL", "yes", "RDS" if _resources_of(doc, "AWS::RDS::DBInstance") else "none",
        bool(_resources_of(doc, "AWS::RDS::DBInstance")))  # fmt: skip
    redis = bool(_resources_of(doc, "AWS::ElastiCache::ReplicationGroup"))
    add("Database and Redis", "Redis", "yes", "ElastiCache" if redis else "none", redis)
    add("Gateway settings", "proxy_batch_write_at", "60", general.get("proxy_batch_write_at"),
        general.get("proxy_batch_write_at") == 60)  # fmt: skip
    add("Gateway settings", "use_redis_transaction_buffer", "true", general.get("use_redis_transaction_buffer"),
        general.get("use_redis_transaction_buffer") is True)  # fmt: skip
    add(
        "Gateway settings",
        "callbacks",
        "[prometheus]",
        settings.get("callbacks"),
        settings.get("callbacks") == ["prometheus"],
    )
    add("Gateway settings", "json_logs", "true", settings.get("json_logs"), settings.get("json_logs") is True)
    add(
        "Gateway settings",
        "request_timeout",
        "600",
        settings.get("request_timeout"),
        settings.get("request_timeout") == 600,
    )
    add("Gateway settings", "log level", "ERROR", env.get("LITELLM_LOG"), env.get("LITELLM_LOG") == "ERROR")
    add("Model", "in-process mock model", "mock model, response caching off",
        "mock_response" if mock else "HTTP upstream", mock and not settings.get("cache"))  # fmt: skip
    stop = proxy.get("StopTimeout")
    add("Rollout and scaling", "termination grace", "620 s (10 s draining delay)",
        f"StopTimeout {stop} s: Fargate's maximum is 120", stop == 120, required=False)  # fmt: skip
    add("Rollout and scaling", "rolling update", "maxUnavailable 0 / maxSurge 25 %",
        f"min {deployment.get('MinimumHealthyPercent')} % / max {deployment.get('MaximumPercent')} %",
        (deployment.get("MinimumHealthyPercent"), deployment.get("MaximumPercent")) == (100, 125))  # fmt: skip
    add("Rollout and scaling", "scale on requests", "83 requests/s per pod",
        f"ALBRequestCountPerTarget {by_metric.get('ALBRequestCountPerTarget')}/min",
        by_metric.get("ALBRequestCountPerTarget") == 83 * 60)  # fmt: skip
    add("Rollout and scaling", "scale on CPU", "60 %", f"{by_metric.get('ECSServiceAverageCPUUtilization')} %",
        by_metric.get("ECSServiceAverageCPUUtilization") == 60)  # fmt: skip
    add("Load", "users at one request/s each", "constant_throughput(1)", load["wait_time"],
        load["wait_time"] == "constant_throughput(1)")  # fmt: skip
    add("Load", "prompt sizes (equal shares)", "50K, 75K, 100K tokens", load["PROMPT_TOKENS"],
        load["PROMPT_TOKENS"] == "(50_000, 75_000, 100_000)")  # fmt: skip
    add("Load", "streamed share", "50 %", load["STREAM_SHARE"], load["STREAM_SHARE"] == "0.5")
    add("Load", "max_tokens", "16", load["MAX_TOKENS"], load["MAX_TOKENS"] == "16")
    add("Load", "endpoint", "/v1/chat/completions", load["PATH"], load["PATH"] == '"v1/chat/completions"')
    add("Load", "client timeout", "60 s", load["CLIENT_TIMEOUT_S"], load["CLIENT_TIMEOUT_S"] == "60.0")
    return rows


def format_report(rows: list[Row], source: str) -> str:
    return format_text(rows, source).replace("Guide", "Published", 1)
