"""The high-throughput profile: LiteLLM's high-throughput Helm values translated to ECS Fargate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.harness.scripts import LOCUST_CODE_ENV, MASTER_ROLE, WORKER_ROLE
from litellm_bench_cfn.render import TEMPLATE_BODY_LIMIT
from litellm_bench_cfn.spec import BenchmarkSpec, SpecError, load_spec, parse_spec_text
from tests.conftest import render_dict

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "high-throughput.yaml"
TEMPLATE = ROOT / "templates" / "cloudformation-ecs-high-throughput.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text())


def containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    defs = template["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
    return {c["Name"]: c for c in defs}


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def test_profile_is_the_published_fleet() -> None:
    spec = load_spec(PROFILE)
    assert (spec.tasks.desired_count, spec.tasks.cpu, spec.tasks.memory, spec.litellm.workers) == (33, 4096, 16384, 4)
    assert spec.redis.enabled and spec.load_test.users == 3000 and spec.harness.locust_workers == 30
    assert spec.litellm.models[0].litellm_params.mock_response


def test_config_carries_the_high_throughput_settings(template: dict[str, Any]) -> None:
    config = yaml.safe_load(env(containers(template)["litellm"])["LITELLM_CONFIG_YAML"])
    assert config["general_settings"]["use_redis_transaction_buffer"] is True
    assert config["general_settings"]["proxy_batch_write_at"] == 60
    assert config["litellm_settings"]["callbacks"] == ["prometheus"]
    assert config["litellm_settings"]["json_logs"] is True
    assert config["litellm_settings"]["request_timeout"] == 600
    assert config["model_list"][0]["litellm_params"]["mock_response"]


def test_pgbouncer_collector_and_metrics_process(template: dict[str, Any]) -> None:
    by_name = containers(template)
    proxy, collector = env(by_name["litellm"]), by_name["collector"]
    assert proxy["LITELLM_PGBOUNCER_ENABLED"] == "true"
    assert proxy["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] == "8"
    assert proxy["LITELLM_PGBOUNCER_MAX_CLIENT_CONN"] == "1000"
    assert proxy["LITELLM_COLLECTOR_ENABLED"] == "true"
    assert proxy["LITELLM_COLLECTOR_ADDRESS"] == "tcp://127.0.0.1:4002"
    assert proxy["PROMETHEUS_METRICS_PORT"] == "4001"
    collector_env = env(collector)
    assert collector_env["LITELLM_JOB_ROLE"] == "collector"
    assert "LITELLM_COLLECTOR_ENABLED" not in collector_env  # the consumer does not push to itself
    assert collector_env["LITELLM_PGBOUNCER_ENABLED"] == "true"  # uses the proxy container's PgBouncer
    assert collector_env["LITELLM_CONFIG_YAML"] == proxy["LITELLM_CONFIG_YAML"]
    assert collector["Secrets"] == by_name["litellm"]["Secrets"]
    assert collector["Essential"] is True
    assert collector["Command"][0].rstrip().endswith("exec python3 -m litellm.proxy.collector")
    assert 'export CONFIG_FILE_PATH="$cfg"' in collector["Command"][0]


def test_stop_timeout_deployment_and_scaling(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert containers(template)["litellm"]["StopTimeout"] == 120
    deployment = resources["ProxyService"]["Properties"]["DeploymentConfiguration"]
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (100, 125)
    cpu = resources["ProxyCpuScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["TargetValue"] == 60
    requests = resources["ProxyRequestCountScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert requests["TargetValue"] == 83 * 60  # ALBRequestCountPerTarget is a one-minute Sum
    metric = requests["PredefinedMetricSpecification"]
    assert metric["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    label = metric["ResourceLabel"]["Fn::Join"][1]
    assert label[0]["Fn::GetAtt"][1] == "LoadBalancerFullName"
    assert label[1]["Fn::GetAtt"][1] == "TargetGroupFullName"


def test_other_profiles_get_none_of_it(resources: dict[str, Any]) -> None:
    spec = BenchmarkSpec()
    rendered = render_dict(spec)["Resources"]
    assert "ProxyRequestCountScalingPolicy" not in rendered
    defs = rendered["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert [c["Name"] for c in defs] == ["rds-ca-bundle", "migrations", "litellm"]
    assert rendered["ProxyService"]["Properties"]["DeploymentConfiguration"]["MaximumPercent"] == 200
    assert not any(e["Name"].startswith(("LITELLM_PGBOUNCER", "LITELLM_COLLECTOR")) for e in defs[1]["Environment"])


def test_pgbouncer_connection_budget_counts_the_deployment_surge() -> None:
    # 40 tasks x 125 % = 50 tasks x 10 = 500 > 450 free
    text = PROFILE.read_text().replace("pgbouncer_max_db_connections: 8", "pgbouncer_max_db_connections: 10")
    with pytest.raises(SpecError) as caught:
        parse_spec_text(text)
    assert caught.value.lines == [
        "high_throughput.pgbouncer_max_db_connections: 50 tasks at scaling.max_tasks plus the deployment surge x "
        "10 = 500 connections exceed max_connections 500 less 50 reserved (450); use at most 9 or raise "
        "max_connections"
    ]


def test_bandwidth_per_task_and_redis_buffer_rules() -> None:
    text = PROFILE.read_text().replace("desired_count: 33", "desired_count: 4").replace("min_tasks: 2", "min_tasks: 1")
    text = text.replace("redis:\n  enabled: true", "redis:\n  enabled: false")
    with pytest.raises(SpecError) as caught:
        parse_spec_text(text)
    lines = caught.value.lines
    assert "high_throughput.use_redis_transaction_buffer: needs Redis; set redis.enabled: true" in lines
    bandwidth = [line for line in lines if line.startswith("tasks.desired_count:")]
    assert bandwidth and "7.4 Gbit/s is 1843 Mbit/s per task" in bandwidth[0] and "at least 8 tasks" in bandwidth[0]


def test_metrics_port_needs_the_prometheus_callback() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec_text("high_throughput:\n  metrics_port: 4001\n")
    assert caught.value.lines == [
        "high_throughput.metrics_port: serves nothing without prometheus_callback: true; set it or unset this"
    ]


def test_the_template_is_written_and_said_to_deploy_through_s3(tmp_path: Path) -> None:
    assert len(TEMPLATE.read_bytes()) > TEMPLATE_BODY_LIMIT
    result = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "render", "--spec", str(PROFILE), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "over the 51200-byte --template-body limit; deploy it through S3" in result.stderr
    assert (tmp_path / TEMPLATE.name).read_bytes() == TEMPLATE.read_bytes()


def test_cost_of_a_run_prices_the_large_prompts_through_nat_and_the_harness() -> None:
    from litellm_bench_cfn import cost

    spec = load_spec(PROFILE)
    items = {item.name: item for item in cost.estimate(spec).run_items}
    gb = 3000 * 1462 * (300 * 1024 + cost.RESPONSE_BYTES) / 1e9  # offered RPS x run x request + response
    assert f"{gb:.1f} GB Locust (private subnets) to the public ALB" in items["NAT gateway"].basis
    assert "~3,000 req/s" in items["Load balancer"].basis
    assert items["Data transfer out"].cost == 0  # the in-process mock sends nothing upstream
    assert items["Harness Locust"].basis.startswith("30 workers + master")
    assert "Harness fake endpoint" in items
    guide = {item.name for item in cost.estimate(BenchmarkSpec()).run_items}
    assert "Harness Locust" not in guide  # the 1K test's run price is unchanged


def _compliance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "compliance", *args, "--benchmark", "high-throughput"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_compliance_against_the_high_throughput_methodology() -> None:
    ours = _compliance(str(TEMPLATE.relative_to(ROOT)))
    assert ours.returncode == 0, ours.stdout
    assert "COMPLIANT" in ours.stdout and "DIFFERS" not in ours.stdout
    assert "StopTimeout 120 s: Fargate's maximum is 120  INFO (optional)" in ours.stdout
    guide = _compliance("templates/cloudformation-ecs.yaml")  # the 1K template is not this test
    assert guide.returncode == 1
    for row in ("Deployment/gateways", "Database and Redis/PgBouncer", "Model/in-process mock model"):
        assert row in guide.stdout
    assert "Load/prompt sizes" not in guide.stdout  # the load file is the same for both


def test_compliance_reads_the_load_file_it_is_given(tmp_path: Path) -> None:
    load = tmp_path / "ht.py"
    text = (ROOT / "loadtest" / "high_throughput.py").read_text().replace("MAX_TOKENS = 16", "MAX_TOKENS = 32")
    load.write_text(text)
    result = _compliance(str(TEMPLATE.relative_to(ROOT)), "--locustfile", str(load))
    assert result.returncode == 1 and "Load/max_tokens" in result.stdout


HT_HARNESS = ROOT / "templates" / "cloudformation-ecs-high-throughput-harness.yaml"
GUIDE_HARNESS = ROOT / "templates" / "cloudformation-ecs-harness.yaml"


def _locust_containers(path: Path) -> list[dict[str, Any]]:
    """Every container of the harness that ships the locustfile (today one: master and workers share it)."""
    doc = yaml.safe_load(path.read_text())
    return [
        container
        for resource in doc["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
        if any(e["Name"] == LOCUST_CODE_ENV for e in container.get("Environment", []))
    ]


@pytest.mark.parametrize("role", [MASTER_ROLE, WORKER_ROLE])
@pytest.mark.parametrize(
    ("harness", "expected"), [(HT_HARNESS, "high_throughput.py"), (GUIDE_HARNESS, "locustfile.py")]
)
def test_every_locust_process_of_a_harness_runs_the_load_of_its_profile(
    tmp_path: Path, harness: Path, expected: str, role: str
) -> None:
    """The Locust container's own start script under sh in each role bench aws runs it as (BENCH_ROLE, a
    container override), `locust` a stub that prints its argv. The master must run the workers' file:
    its user classes are the ones it tells the workers to spawn, and its listeners write the TTFT
    JSON. (With a task definition per role, the high-throughput master ran the guide's locustfile.py:
    its environment was built before the load's variables were added.)"""
    (container,) = _locust_containers(harness)
    stub = tmp_path / "bin" / "locust"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "ARGS $*"\n')
    stub.chmod(0o755)
    environment = {e["Name"]: e["Value"] for e in container["Environment"] if isinstance(e["Value"], str)}
    environment.update(
        # python3 is this venv's (Locust installed, as in the task's image after its pip step): the
        # script's install step then has nothing to do and never reaches for the network.
        PATH=f"{stub.parent}:{Path(sys.executable).parent}:/usr/bin:/bin",
        TMPDIR=str(tmp_path),
        LITELLM_MASTER_KEY_SECRET="x" * 20,
        BENCH_ROLE=role,
        BENCH_MASTER_HOST="10.0.0.9",
        BENCH_TARGET="http://alb.example/",  # Fn::ImportValue in the template
        BENCH_WORKERS="2",  # Ref LocustWorkers
    )
    result = subprocess.run(
        ["/bin/sh", "-c", container["Command"][0]], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    decoded = tmp_path / "litellm-bench"
    assert f"ARGS -f {decoded / expected} --{role}" in result.stdout
    assert (decoded / "locustfile.py").read_bytes() == (ROOT / "loadtest" / "locustfile.py").read_bytes()
    if expected == "high_throughput.py":
        assert (decoded / expected).read_bytes() == (ROOT / "loadtest" / expected).read_bytes()
    else:
        assert not (decoded / "high_throughput.py").exists()


def test_aws_table_shows_ttft_only_for_the_high_throughput_load() -> None:
    from litellm_bench_cfn.bench.aws_results import AwsBenchReport, table
    from litellm_bench_cfn.bench.locust_run import LoadResult, LoadShape

    def report(ttft: dict[str, Any] | None) -> str:
        load = LoadResult(
            target="http://alb/", shape=LoadShape(3000, 10, 1462), requests=10, failures=0, rps=3000.0,
            latency_ms={"p50": 40.0}, overhead_header_ms=None, locust_cpu_s=0.0, wall_s=1.0, exit_code=0,
            ttft_ms=ttft,
        )  # fmt: skip
        return table(AwsBenchReport("s", "s-harness", "us-east-1", 30, "arn", load))

    line = "TTFT of streamed requests (own metric, not counted as requests): 5 samples, p50 33 / p95 50 / p99 80 ms"
    assert line in report({"count": 5, "p50": 33.0, "p95": 50.0, "p99": 80.0})
    assert "TTFT" not in report(None)
