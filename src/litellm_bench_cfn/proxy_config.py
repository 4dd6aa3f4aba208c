"""The LiteLLM config and the container start script that the template ships.

Delivery: the config YAML travels in the task definition as the environment variable
`LITELLM_CONFIG_YAML` (it holds no secret: keys are `os.environ/` references filled by ECS
`Secrets`). The container's entrypoint is replaced by a short POSIX sh script that writes the
YAML to a file, checks it (parses, lists models, every `os.environ/NAME` it references is set),
then `exec`s the image's own `docker/prod_entrypoint.sh --config FILE ...`. So:

- nothing is uploaded by hand and nothing outside the template must exist (one-click launch);
- a changed config is a new task definition revision, which ECS rolls out on the next deploy;
- a broken or missing config exits the container with status 78 before the proxy listens, so the
  task never passes a health check (and the deployment circuit breaker rolls back);
- `--config` is passed, which is what LiteLLM needs to read the DB pool settings.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import names
from .names import CONFIG_INVALID_EXIT_CODE, MASTER_KEY_ENV
from .spec import BENCHMARK_API_BASE, BenchmarkSpec
from .stack.ecs_tasks import master_key_prelude
from .stack.redis import litellm_router_settings

CONFIG_ENV = "LITELLM_CONFIG_YAML"
API_BASE_ENV = "BENCHMARK_API_BASE"
GUNICORN_FLAG = "--run_gunicorn"


def litellm_config(spec: BenchmarkSpec) -> dict[str, Any]:
    """The proxy config as a dict; secrets and the endpoint URL stay `os.environ/` references."""
    litellm = spec.litellm
    model_list = []
    for deployment in litellm.models:
        params = deployment.litellm_params.model_dump(exclude_none=True, exclude={"api_key_secret"})
        secret = deployment.litellm_params.api_key_secret
        if secret is not None:
            params["api_key"] = f"os.environ/{secret.env}"
        if params["api_base"] == BENCHMARK_API_BASE:
            params["api_base"] = f"os.environ/{API_BASE_ENV}"
        model_list.append({"model_name": deployment.model_name, "litellm_params": params})
    general: dict[str, Any] = {
        "master_key": f"os.environ/{MASTER_KEY_ENV}",
        "store_model_in_db": litellm.store_model_in_db,
        "proxy_batch_write_at": litellm.proxy_batch_write_at,
        "database_connection_pool_limit": spec.pool_limit,
    }
    if litellm.disable_spend_logs:
        general["disable_spend_logs"] = True
    if litellm.disable_error_logs:
        general["disable_error_logs"] = True
    config: dict[str, Any] = {
        "model_list": model_list,
        "general_settings": general,
        "litellm_settings": {"set_verbose": False},
    }
    router_settings = {**router_cooldown_settings(spec), **litellm_router_settings(spec)}
    if router_settings:
        config["router_settings"] = router_settings
    _high_throughput_settings(spec, config)
    return config


def router_cooldown_settings(spec: BenchmarkSpec) -> dict[str, Any]:
    """LiteLLM cools a deployment down after e.g. one 404 (router_utils/cooldown_handlers.py:
    `should_retry(404)` is false), even the only one of its model group: calls then answer 429
    without reaching upstream. With one deployment per model name that only hides the proxy."""
    return {"disable_cooldowns": True} if spec.litellm.cooldowns_disabled else {}


def _high_throughput_settings(spec: BenchmarkSpec, config: dict[str, Any]) -> None:
    """The config keys of LiteLLM's high-throughput profile that the spec switches on (none by default)."""
    ht = spec.high_throughput
    if ht.use_redis_transaction_buffer:
        config["general_settings"]["use_redis_transaction_buffer"] = True
    settings = config["litellm_settings"]
    if ht.prometheus_callback:
        settings["callbacks"] = ["prometheus"]  # OSS since 1.7x: integrations/prometheus.py has no premium check
    if ht.json_logs:
        settings["json_logs"] = True
    if ht.request_timeout_s is not None:
        settings["request_timeout"] = ht.request_timeout_s


COLLECTOR_MODULE = "litellm.proxy.collector"


def collector_start_script(spec: BenchmarkSpec) -> str:
    """The proxy's start script (same config file and checks), ending in the spend-collector sidecar."""
    prelude = start_script(spec).rsplit("exec docker/prod_entrypoint.sh", 1)[0]
    return prelude + f'export CONFIG_FILE_PATH="$cfg"\nexec python3 -m {COLLECTOR_MODULE}\n'


def high_throughput_environment(spec: BenchmarkSpec) -> dict[str, str]:
    """LiteLLM's own switches for in-container PgBouncer, the collector push and the metrics process."""
    ht = spec.high_throughput
    env: dict[str, str] = {}
    if ht.pgbouncer:
        env["LITELLM_PGBOUNCER_ENABLED"] = "true"
        env["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] = str(ht.pgbouncer_max_db_connections)
        env["LITELLM_PGBOUNCER_MAX_CLIENT_CONN"] = str(ht.pgbouncer_max_client_conn)
    if ht.spend_collector:
        env["LITELLM_COLLECTOR_ENABLED"] = "true"
        env["LITELLM_COLLECTOR_ADDRESS"] = f"tcp://127.0.0.1:{ht.collector_port}"
    if ht.metrics_port is not None:
        env["PROMETHEUS_METRICS_PORT"] = str(ht.metrics_port)
    return env


def litellm_config_yaml(spec: BenchmarkSpec) -> str:
    return yaml.safe_dump(litellm_config(spec), sort_keys=False, default_flow_style=False)


CONFIG_CHECK = """\
import os, sys, yaml
path = sys.argv[1]
try:
    cfg = yaml.safe_load(open(path))
except Exception as exc:
    sys.exit("LiteLLM config is not valid YAML: %s" % exc)
if not isinstance(cfg, dict) or not cfg.get("model_list"):
    sys.exit("LiteLLM config lists no models (model_list is empty)")
def refs(node):
    if isinstance(node, dict):
        for v in node.values(): yield from refs(v)
    elif isinstance(node, list):
        for v in node: yield from refs(v)
    elif isinstance(node, str) and node.startswith("os.environ/"):
        yield node[len("os.environ/"):]
missing = sorted({n for n in refs(cfg) if not os.environ.get(n)})
if missing:
    sys.exit("LiteLLM config references unset environment variables: " + ", ".join(missing))
"""


def start_script(spec: BenchmarkSpec) -> str:
    """POSIX sh run as `sh -c SCRIPT`; flags come from environment variables the task sets."""
    flags = [
        '--config "$cfg"',
        '--port "$PORT"',
        '--num_workers "$NUM_WORKERS"',
    ]
    if spec.litellm.server == "uvicorn":
        # uvicorn's supervisor kills workers that boot slower than this; gunicorn ignores it.
        flags.append('--timeout_worker_healthcheck "$TIMEOUT_WORKER_HEALTHCHECK"')
        # Above the ALB's idle timeout (spec rule); LiteLLM passes it to uvicorn only.
        flags.append('--keepalive_timeout "$KEEPALIVE_TIMEOUT"')
    if spec.litellm.max_requests_before_restart is not None:
        flags.append('--max_requests_before_restart "$MAX_REQUESTS_BEFORE_RESTART"')
    if spec.litellm.server == "gunicorn":
        flags.append(GUNICORN_FLAG)
    return (
        "set -eu\n"
        f'if [ -z "${{{CONFIG_ENV}:-}}" ]; then echo "litellm-bench-cfn: {CONFIG_ENV} is empty:'
        f' the task carries no LiteLLM config" >&2; exit {CONFIG_INVALID_EXIT_CODE}; fi\n'
        + master_key_prelude()
        + 'cfg="${TMPDIR:-/tmp}/litellm-config.yaml"\n'
        "umask 077\n"
        f'printf "%s\\n" "${CONFIG_ENV}" > "$cfg"\n'
        f"python3 -c '{CONFIG_CHECK}' \"$cfg\" || exit {CONFIG_INVALID_EXIT_CODE}\n"
        f"exec docker/prod_entrypoint.sh {' '.join(flags)}\n"
    )


def container_environment(spec: BenchmarkSpec) -> dict[str, str]:
    """Plain environment of the proxy container (no secret: those are ECS `Secrets`)."""
    env = {
        CONFIG_ENV: litellm_config_yaml(spec),
        "PORT": str(spec.litellm.port),
        "LITELLM_LOG": spec.litellm.log_level,
        "LITELLM_MODE": "PRODUCTION",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        names.DATABASE_NAME_ENV: spec.database.database_name,
        names.DATABASE_USERNAME_ENV: spec.database.master_username,
        "STORE_MODEL_IN_DB": "True" if spec.litellm.store_model_in_db else "False",
    }
    if spec.litellm.server == "uvicorn":
        env["TIMEOUT_WORKER_HEALTHCHECK"] = str(spec.litellm.timeout_worker_healthcheck)
        env["KEEPALIVE_TIMEOUT"] = str(spec.litellm.keepalive_timeout_s)
    if spec.litellm.max_requests_before_restart is not None:
        env["MAX_REQUESTS_BEFORE_RESTART"] = str(spec.litellm.max_requests_before_restart)
    env.update(high_throughput_environment(spec))
    return env
