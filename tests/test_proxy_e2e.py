"""End to end: the committed template's proxy container, started as ECS starts it, on loopback.

The container's entrypoint, command, environment and secrets are read from
templates/cloudformation-ecs.yaml (secrets replaced by generated test values, the model's
api_base pointed at the product's fake endpoint). The real LiteLLM proxy then has to serve.

LITELLM_BENCH_E2E_VARIANT=NAME[@VERSION] runs the shared stack's tests on another proxy variant or
LiteLLM release (e.g. shipped@1.108.7, from its cached venv: bench/litellm_versions.py), the check a
pin bump needs; unset, the pinned release as shipped.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn import names, proxy_config
from litellm_bench_cfn.bench.local_stack import (
    GeneratedSecrets,
    RunningStack,
    load_template,
    proxy_launch,
    proxy_process,
    running_stack,
)
from litellm_bench_cfn.bench.variants import variant_named
from litellm_bench_cfn.processes import free_port
from litellm_bench_cfn.task_runtime import ContainerLaunch
from litellm_bench_cfn.versions import LITELLM_VERSION

from .conftest import BENCHMARK_TEMPLATE, require_modules

pytestmark = pytest.mark.e2e
require_modules("litellm")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(BENCHMARK_TEMPLATE)


@pytest.fixture(scope="module")
def stack(template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    variant = variant_named(os.environ.get("LITELLM_BENCH_E2E_VARIANT") or "shipped")
    with running_stack(template, tmp_path_factory.mktemp("proxy"), workers=2, variant=variant) as running:
        yield running


def call(
    stack: RunningStack, path: str, body: dict[str, Any] | None = None, key: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.proxy_url}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


CHAT = {"model": "fake-openai-endpoint", "messages": [{"role": "user", "content": "hello"}]}


def test_liveliness_answers(stack: RunningStack) -> None:
    status, _, body = call(stack, "/health/liveliness")
    assert status == 200 and "alive" in body.decode().lower()


def test_readiness_answers_healthy(stack: RunningStack) -> None:
    status, _, body = call(stack, "/health/readiness")
    assert status == 200 and json.loads(body)["status"] == "healthy"


def test_the_release_under_test_is_the_one_serving(stack: RunningStack) -> None:
    """The pinned release, or LITELLM_BENCH_E2E_VARIANT's @VERSION: these tests vouch for what answered."""
    wanted = variant_named(os.environ.get("LITELLM_BENCH_E2E_VARIANT") or "shipped").litellm_version
    status, _, body = call(stack, "/health/readiness/details", key=stack.master_key)
    assert status == 200 and json.loads(body)["litellm_version"] == (wanted or LITELLM_VERSION)


def test_models_lists_the_benchmark_model(stack: RunningStack) -> None:
    status, _, body = call(stack, "/v1/models", key=stack.master_key)
    assert status == 200
    assert "fake-openai-endpoint" in [m["id"] for m in json.loads(body)["data"]]


def test_chat_completion_with_master_key(stack: RunningStack) -> None:
    status, headers, body = call(stack, "/v1/chat/completions", CHAT, key=stack.master_key)
    assert status == 200
    assert json.loads(body)["object"] == "chat.completion"
    lowered = {k.lower(): v for k, v in headers.items()}
    assert float(lowered["x-litellm-overhead-duration-ms"]) >= 0


def test_master_key_has_the_sk_prefix(stack: RunningStack) -> None:
    assert stack.master_key.startswith("sk-") and len(stack.master_key) > 40


def test_request_without_key_is_refused(stack: RunningStack) -> None:
    status, _, _ = call(stack, "/v1/chat/completions", CHAT)
    assert status == 401


def test_request_with_wrong_key_is_refused(stack: RunningStack) -> None:
    status, _, _ = call(stack, "/v1/chat/completions", CHAT, key="sk-not-the-master-key")
    assert 400 <= status < 500


def test_config_reaches_the_proxy_with_the_settings_of_the_spec(stack: RunningStack) -> None:
    config = yaml.safe_load(stack.launch.environment[proxy_config.CONFIG_ENV])
    assert config["general_settings"]["proxy_batch_write_at"] == 60
    written = Path(stack.proxy.env["TMPDIR"]) / "litellm-config.yaml"
    assert yaml.safe_load(written.read_text()) == config


def alb_idle_timeout_s(template: dict[str, Any]) -> int:
    (balancer,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    return int(attributes["idle_timeout.timeout_seconds"])


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed its side: the socket reads as end-of-file."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


def test_idle_connection_outlives_the_load_balancers_idle_timeout(
    stack: RunningStack, template: dict[str, Any]
) -> None:
    """The ALB reuses an idle connection for up to its idle timeout and answers 502 if the target
    closed it first (AWS: the target's keep-alive must exceed it). One connection, as the ALB
    holds it: a request, idle past the committed template's ALB idle timeout, a second request."""
    idle_s = alb_idle_timeout_s(template) + 2
    connection = http.client.HTTPConnection(stack.proxy_url.removeprefix("http://"), timeout=30)
    connection.auto_open = 0  # never silently reconnect: the second request must reuse the socket
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {stack.master_key}"}
    connection.connect()
    sock = connection.sock
    try:
        connection.request("POST", "/v1/chat/completions", json.dumps(CHAT), headers)
        first = connection.getresponse()
        assert (first.status, first.will_close) == (200, False)
        first.read()
        deadline = time.monotonic() + idle_s
        while time.monotonic() < deadline:
            assert not closed_by_peer(sock), (
                f"the proxy closed the idle connection after "
                f"{idle_s - (deadline - time.monotonic()):.1f} s, within the ALB's idle timeout"
            )
            time.sleep(0.5)
        connection.request("POST", "/v1/chat/completions", json.dumps(CHAT), headers)
        second = connection.getresponse()
        assert second.status == 200 and json.loads(second.read())["object"] == "chat.completion"
        assert connection.sock is sock
    finally:
        connection.close()


def broken_start(launch: ContainerLaunch, tmp_path: Path, **env_changes: str | None) -> tuple[int, str, bool]:
    """Start the container with its environment changed; return (exit code, log, ever ready)."""
    environment = dict(launch.environment)
    for name, value in env_changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    broken = ContainerLaunch(argv=launch.argv, environment=environment, image=launch.image, port=launch.port)
    port = free_port()
    process = proxy_process(broken, tmp_path, port, workers=1).start()
    try:
        code = process.wait_exit(timeout=60)
    finally:
        process.stop()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health/readiness", timeout=2)
        ready = True
    except OSError:
        ready = False
    return code, process.log_tail(), ready


@pytest.fixture
def launch(template: dict[str, Any]) -> ContainerLaunch:
    return proxy_launch(template, api_base="http://127.0.0.1:9/", test_secrets=GeneratedSecrets())


def test_missing_config_stops_the_container_before_it_listens(launch: ContainerLaunch, tmp_path: Path) -> None:
    code, log, ready = broken_start(launch, tmp_path, **{proxy_config.CONFIG_ENV: None})
    assert (code, ready) == (names.CONFIG_INVALID_EXIT_CODE, False)
    assert "carries no LiteLLM config" in log


def test_malformed_config_stops_the_container(launch: ContainerLaunch, tmp_path: Path) -> None:
    code, log, ready = broken_start(launch, tmp_path, **{proxy_config.CONFIG_ENV: "model_list: [\n  - oops: {"})
    assert (code, ready) == (names.CONFIG_INVALID_EXIT_CODE, False)
    assert "not valid YAML" in log


def test_config_without_models_stops_the_container(launch: ContainerLaunch, tmp_path: Path) -> None:
    code, log, ready = broken_start(launch, tmp_path, **{proxy_config.CONFIG_ENV: "model_list: []\n"})
    assert (code, ready) == (names.CONFIG_INVALID_EXIT_CODE, False)
    assert "lists no models" in log


def test_unset_endpoint_variable_stops_the_container(launch: ContainerLaunch, tmp_path: Path) -> None:
    # LiteLLM would silently turn an unset os.environ/ reference into None (api.openai.com).
    code, log, ready = broken_start(launch, tmp_path, **{proxy_config.API_BASE_ENV: None})
    assert (code, ready) == (names.CONFIG_INVALID_EXIT_CODE, False)
    assert f"unset environment variables: {proxy_config.API_BASE_ENV}" in log


def test_missing_master_key_secret_stops_the_container(launch: ContainerLaunch, tmp_path: Path) -> None:
    code, log, ready = broken_start(launch, tmp_path, **{names.MASTER_KEY_SECRET_ENV: None})
    assert (code, ready) == (names.CONFIG_INVALID_EXIT_CODE, False)
    assert names.MASTER_KEY_SECRET_ENV in log


def _tree(pid: int) -> list[Any]:
    import psutil

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def test_every_process_of_the_stack_listens_on_loopback_only(stack: RunningStack) -> None:
    """On AWS the proxy listens on 0.0.0.0 (the load balancer reaches it); here nothing leaves loopback."""
    listening = [
        (proc.pid, conn.laddr.ip, conn.laddr.port)
        for managed in stack.processes()
        for proc in _tree(managed.pid)
        for conn in proc.net_connections(kind="inet")
        if conn.status == "LISTEN"
    ]
    assert {port for _, _, port in listening} >= {int(stack.proxy_url.rsplit(":", 1)[1])}
    assert {ip for _, ip, _ in listening} == {"127.0.0.1"}, listening


def test_the_template_itself_still_listens_on_every_address_on_aws(template: dict[str, Any]) -> None:
    launch = proxy_launch(template, api_base="http://127.0.0.1:9/", test_secrets=GeneratedSecrets())
    assert "HOST" not in launch.environment and "--host" not in launch.argv[-1]


def test_ready_means_every_worker_finished_starting(template: dict[str, Any], tmp_path: Path) -> None:
    """Readiness is answered by the first worker up, while the others may still be starting (and would
    start inside the measured phase): the stack is ready only once every worker logged the end of its
    start-up, checked here at the very moment the stack is handed over."""
    from litellm_bench_cfn.bench.local_stack import ready_worker_pids

    with running_stack(template, tmp_path, workers=2) as fresh:
        ready_now = ready_worker_pids(fresh.proxy)
        workers = {proc.pid for proc in _tree(fresh.proxy.pid)[1:]}
    assert len(ready_now) == 2 and ready_now <= workers
    assert set(fresh.worker_pids) == ready_now


def test_an_upstream_error_does_not_put_the_only_deployment_into_cooldown(stack: RunningStack) -> None:
    """LiteLLM cools a deployment down after one upstream 404 (should_retry(404) is false), even the only
    one of its model group: the next calls then answered 429 for ~5 s without reaching upstream. The
    template's router_settings (disable_cooldowns with a single deployment) keeps serving them."""
    embedding = {"model": "fake-openai-endpoint", "input": "hello"}
    for _ in range(3):  # the fake endpoint has no /embeddings: upstream answers 404
        status, _, _ = call(stack, "/v1/embeddings", embedding, key=stack.master_key)
        assert status != 200
    statuses = [call(stack, "/v1/chat/completions", CHAT, key=stack.master_key)[0] for _ in range(6)]
    assert statuses == [200] * 6


def test_the_benchmark_config_disables_cooldowns_of_its_single_deployment(stack: RunningStack) -> None:
    config = yaml.safe_load(stack.launch.environment[proxy_config.CONFIG_ENV])
    assert config["router_settings"]["disable_cooldowns"] is True
