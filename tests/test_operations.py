"""Issue #8, operations and security: properties of the rendered templates, one behaviour per test."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn import proxy_config
from litellm_bench_cfn.spec import BenchmarkSpec
from litellm_bench_cfn.stack.compute import migrations_script
from litellm_bench_cfn.stack.monitoring import alarm_definitions
from litellm_bench_cfn.stack.redis import litellm_router_settings

from .conftest import errors_of, render_dict

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-123456789012"


def props(resources: dict[str, Any], name: str) -> dict[str, Any]:
    return resources[name]["Properties"]


def containers(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["Name"]: c for c in props(resources, "ProxyTaskDefinition")["ContainerDefinitions"]}


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


def secret_names(container: dict[str, Any]) -> set[str]:
    return {s["Name"] for s in container.get("Secrets", [])}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def redis_resources() -> dict[str, Any]:
    spec = BenchmarkSpec.model_validate({"redis": {"enabled": True}})
    return render_dict(spec)["Resources"]


# 1. Safe rollouts ------------------------------------------------------------------------------


def test_migrations_container_runs_migrations_only_and_is_not_essential(resources: dict[str, Any]) -> None:
    migrations = containers(resources)["migrations"]
    assert migrations["EntryPoint"] == ["/bin/sh", "-c"] and migrations["Essential"] is False
    assert migrations["Command"] == [migrations_script(BenchmarkSpec())]
    (script,) = migrations["Command"]
    # The only LiteLLM run is the image's own entrypoint (`litellm "$@"`) with the migrations-only flag.
    runs = [line.strip() for line in script.splitlines() if "prod_entrypoint.sh" in line]
    assert runs == ["docker/prod_entrypoint.sh --skip_server_startup && exit 0"]


@dataclass(frozen=True)
class ScriptRun:
    code: int
    litellm_runs: int
    stderr: list[str]
    sleeps: list[int]


def run_migrations_script(tmp_path: Path, spec: BenchmarkSpec, exit_codes: list[int]) -> ScriptRun:
    """Run the rendered wrapper under dash with a stand-in for the image's entrypoint that exits with
    `exit_codes` in turn, and a `sleep` on PATH that records the wait instead of sleeping."""
    (tmp_path / "docker").mkdir()
    entrypoint = tmp_path / "docker" / "prod_entrypoint.sh"
    entrypoint.write_text(
        "#!/bin/sh\n"
        '[ "$*" = --skip_server_startup ] || exit 99\n'
        "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs\n"
        f"set -- {' '.join(map(str, exit_codes))}\n"
        'shift $((n - 1)); exit "$1"\n'
    )
    (tmp_path / "bin").mkdir()
    sleep = tmp_path / "bin" / "sleep"
    sleep.write_text(f'#!/bin/sh\necho "$1" >> "{tmp_path}/sleeps"\n')
    for executable in (entrypoint, sleep):
        executable.chmod(0o755)
    done = subprocess.run(
        [shutil.which("dash") or "/bin/sh", "-c", migrations_script(spec)],
        cwd=tmp_path,
        env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    sleeps = (tmp_path / "sleeps").read_text().split() if (tmp_path / "sleeps").exists() else []
    return ScriptRun(
        code=done.returncode,
        litellm_runs=int((tmp_path / "runs").read_text()),
        stderr=done.stderr.splitlines(),
        sleeps=[int(s) for s in sleeps],
    )


def test_migrations_are_rerun_while_litellm_asks_for_a_rerun(tmp_path: Path) -> None:
    run = run_migrations_script(tmp_path, BenchmarkSpec(), [1, 1, 0])
    assert (run.code, run.litellm_runs, len(run.stderr)) == (0, 3, 2)
    assert all(line.startswith("litellm-bench-cfn: migrations: run ") for line in run.stderr)
    assert "run 1 of 6 exited 1" in run.stderr[0] and "rerunning in" in run.stderr[0]


def test_migrations_reruns_back_off_with_jitter_up_to_the_cap(tmp_path: Path) -> None:
    spec = BenchmarkSpec.model_validate({"migrations": {"attempts": 6, "retry_delay_s": 4, "retry_delay_max_s": 10}})
    run = run_migrations_script(tmp_path, spec, [1] * 6)
    assert (run.code, run.litellm_runs) == (1, 6)
    ceilings = [4, 8, 10, 10, 10]
    assert len(run.sleeps) == len(ceilings)
    assert all((ceiling + 1) // 2 <= s <= ceiling for s, ceiling in zip(run.sleeps, ceilings, strict=True))
    assert sum(ceilings) == spec.migrations.retry_wait_budget_s
    assert "run 6 of 6 exited 1; giving up" in run.stderr[-1]


def test_migrations_failure_a_rerun_cannot_fix_fails_at_once(tmp_path: Path) -> None:
    run = run_migrations_script(tmp_path, BenchmarkSpec(), [2, 0])
    assert (run.code, run.litellm_runs, run.sleeps) == (2, 1, [])
    assert run.stderr == ["litellm-bench-cfn: migrations: run 1 of 6 exited 2, which a rerun does not fix; giving up"]


def test_migrations_retry_budget_must_fit_the_grace_period() -> None:
    assert errors_of("migrations: {expected_duration_s: 60}") == [
        "migrations.expected_duration_s: 60 s is shorter than the 95 s the migrations container may wait between "
        "its 6 runs, so the health-check grace period could end while a task still migrates; raise it to at least "
        "95 or lower migrations.attempts / retry_delay_max_s"
    ]
    assert errors_of("migrations: {retry_delay_s: 20, retry_delay_max_s: 10}") == [
        "migrations.retry_delay_max_s: 10 is below migrations.retry_delay_s (20); raise it"
    ]
    assert BenchmarkSpec.model_validate({"migrations": {"mode": "in_proxy", "expected_duration_s": 0}})


def test_migrations_container_reaches_the_database_with_the_injected_password(resources: dict[str, Any]) -> None:
    migrations = containers(resources)["migrations"]
    address, port = {"Fn::GetAtt": ["Database", "Endpoint.Address"]}, {"Fn::GetAtt": ["Database", "Endpoint.Port"]}
    assert env(migrations)["DATABASE_HOST"] == {"Fn::Join": [":", [address, port]]}
    assert env(migrations)["DATABASE_HOST"] == env(containers(resources)["litellm"])["DATABASE_HOST"]
    assert secret_names(migrations) == {"DATABASE_PASSWORD"}


def test_migrations_container_never_disables_schema_updates(resources: dict[str, Any]) -> None:
    assert "DISABLE_SCHEMA_UPDATE" not in env(containers(resources)["migrations"])


def test_proxy_starts_only_after_migrations_succeeded(resources: dict[str, Any]) -> None:
    assert containers(resources)["litellm"]["DependsOn"] == [
        {"ContainerName": "rds-ca-bundle", "Condition": "SUCCESS"},  # the RDS CA bundle (stack/database_tls.py)
        {"ContainerName": "migrations", "Condition": "SUCCESS"},
    ]


def test_proxy_does_not_migrate_the_schema_itself(resources: dict[str, Any]) -> None:
    assert env(containers(resources)["litellm"])["DISABLE_SCHEMA_UPDATE"] == "true"


def test_in_proxy_migrations_render_a_single_container_that_migrates() -> None:
    resources = render_dict(BenchmarkSpec.model_validate({"migrations": {"mode": "in_proxy"}}))["Resources"]
    ca_bundle, proxy = props(resources, "ProxyTaskDefinition")["ContainerDefinitions"]
    assert ca_bundle["Name"] == "rds-ca-bundle" and proxy["Name"] == "litellm"
    assert "DISABLE_SCHEMA_UPDATE" not in env(proxy)
    assert proxy["DependsOn"] == [{"ContainerName": "rds-ca-bundle", "Condition": "SUCCESS"}]


def test_grace_period_covers_migrations_and_worker_start(resources: dict[str, Any]) -> None:
    spec = BenchmarkSpec()
    grace = props(resources, "ProxyService")["HealthCheckGracePeriodSeconds"]
    assert grace == spec.container_health_check.start_period_s + spec.migrations.expected_duration_s
    assert grace >= 240
    assert grace >= spec.container_health_check.start_period_s + spec.migrations.retry_wait_budget_s


def test_circuit_breaker_rolls_back_a_failed_deployment(resources: dict[str, Any]) -> None:
    breaker = props(resources, "ProxyService")["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}


def test_rollout_keeps_full_capacity_while_doubling_at_most(resources: dict[str, Any]) -> None:
    deployment = props(resources, "ProxyService")["DeploymentConfiguration"]
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (100, 200)


# 2. Access -------------------------------------------------------------------------------------


def test_certificate_parameter_defaults_to_http_only(benchmark_template: dict[str, Any]) -> None:
    assert benchmark_template["Parameters"]["CertificateArn"]["Default"] == ""
    assert benchmark_template["Conditions"]["HasCertificate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }


def test_https_listener_uses_the_certificate_and_a_tls13_policy(resources: dict[str, Any]) -> None:
    listener = resources["HttpsListener"]
    assert listener["Condition"] == "HasCertificate"
    p = listener["Properties"]
    assert (p["Port"], p["Protocol"], p["SslPolicy"]) == (443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert p["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]


def test_http_listener_redirects_to_https_when_a_certificate_is_set(resources: dict[str, Any]) -> None:
    (action,) = props(resources, "HttpListener")["DefaultActions"]
    redirect, forward = action["Fn::If"][1:]
    assert action["Fn::If"][0] == "HasCertificate"
    assert redirect["RedirectConfig"] == {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    assert forward["Type"] == "forward"


def test_https_ingress_is_limited_to_the_allowed_cidr(resources: dict[str, Any]) -> None:
    ingress = resources["LoadBalancerHttpsIngress"]
    assert ingress["Condition"] == "HasCertificate"
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["CidrIp"]) == (443, {"Ref": "AllowedIngressCidr"})


def test_no_ingress_is_open_beyond_the_cidr_parameter(resources: dict[str, Any]) -> None:
    """Besides the parameter, only a NAT gateway's own address (/32: the in-VPC harness, issue 13 item 6)."""
    nat_addresses = [{"Fn::Join": ["", [{"Ref": name}, "/32"]]} for name in of_type(resources, "AWS::EC2::EIP")]
    for name, rule in of_type(resources, "AWS::EC2::SecurityGroupIngress").items():
        cidr = rule["Properties"].get("CidrIp")
        assert cidr in (None, {"Ref": "AllowedIngressCidr"}, *nat_addresses), name


def test_load_balancer_drops_invalid_header_fields(resources: dict[str, Any]) -> None:
    attributes = {a["Key"]: a["Value"] for a in props(resources, "LoadBalancer")["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_tasks_get_no_public_address(resources: dict[str, Any]) -> None:
    network = props(resources, "ProxyService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"


def test_database_is_not_publicly_accessible(resources: dict[str, Any]) -> None:
    assert props(resources, "Database")["PubliclyAccessible"] is False


def test_no_subnet_maps_public_addresses(resources: dict[str, Any]) -> None:
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in of_type(resources, "AWS::EC2::Subnet").values())


def test_certificate_in_the_spec_becomes_the_parameter_default() -> None:
    template = render_dict(BenchmarkSpec.model_validate({"https": {"certificate_arn": CERT}}))
    assert template["Parameters"]["CertificateArn"]["Default"] == CERT


# 3. Scaling ------------------------------------------------------------------------------------


def test_autoscaling_tracks_cpu_and_never_memory() -> None:
    resources = render_dict(BenchmarkSpec.model_validate({"scaling": {"enabled": True}}))["Resources"]
    policies = of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policies
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in policies.values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization"}


# 4. Alarms and dashboard -----------------------------------------------------------------------


def alarm(resources: dict[str, Any], name: str) -> dict[str, Any]:
    resource = resources[name]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    return resource["Properties"]


def test_5xx_rate_alarm_divides_5xx_by_requests(resources: dict[str, Any]) -> None:
    a = alarm(resources, "Http5xxRateAlarm")
    queries = {q["Id"]: q for q in a["Metrics"]}
    assert queries["e"]["Expression"] == "100*FILL(t,0)/r" and queries["e"]["ReturnData"] is True
    assert queries["t"]["MetricStat"]["Metric"]["MetricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["r"]["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    assert (a["ComparisonOperator"], a["Threshold"]) == ("GreaterThanThreshold", 1.0)


def test_latency_alarm_is_p95_over_500_ms(resources: dict[str, Any]) -> None:
    a = alarm(resources, "LatencyP95Alarm")
    assert (a["MetricName"], a["ExtendedStatistic"], a["Threshold"]) == ("TargetResponseTime", "p95", 0.5)


def test_healthy_hosts_alarm_fires_below_two_and_on_missing_data(resources: dict[str, Any]) -> None:
    a = alarm(resources, "HealthyHostsAlarm")
    assert (a["MetricName"], a["ComparisonOperator"], a["Threshold"]) == ("HealthyHostCount", "LessThanThreshold", 2)
    assert a["TreatMissingData"] == "breaching"
    assert {d["Name"] for d in a["Dimensions"]} == {"TargetGroup", "LoadBalancer"}


def test_database_cpu_alarm_is_over_80_percent(resources: dict[str, Any]) -> None:
    a = alarm(resources, "DatabaseCpuAlarm")
    assert (a["Namespace"], a["MetricName"], a["Threshold"]) == ("AWS/RDS", "CPUUtilization", 80.0)


def test_database_connections_alarm_is_a_fraction_of_max_connections(resources: dict[str, Any]) -> None:
    a = alarm(resources, "DatabaseConnectionsAlarm")
    assert (a["MetricName"], a["Threshold"]) == (
        "DatabaseConnections",
        int(0.9 * BenchmarkSpec().database.max_connections),
    )


def test_tasks_below_desired_alarm_needs_every_period(resources: dict[str, Any]) -> None:
    a = alarm(resources, "TasksBelowDesiredAlarm")
    queries = {q["Id"]: q for q in a["Metrics"]}
    assert queries["e"]["Expression"] == "d-r"
    assert queries["r"]["MetricStat"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    assert a["DatapointsToAlarm"] == a["EvaluationPeriods"]


def test_alarm_thresholds_come_from_the_spec() -> None:
    spec = BenchmarkSpec.model_validate({"alarms": {"p95_latency_ms": 250, "db_cpu_percent": 60}})
    resources = render_dict(spec)["Resources"]
    assert alarm(resources, "LatencyP95Alarm")["Threshold"] == 0.25
    assert alarm(resources, "DatabaseCpuAlarm")["Threshold"] == 60


def test_every_alarm_in_the_table_is_rendered_and_notifies_the_topic(resources: dict[str, Any]) -> None:
    names = {d.title for d in alarm_definitions(BenchmarkSpec())}
    assert names == set(of_type(resources, "AWS::CloudWatch::Alarm"))
    for name in names:
        assert alarm(resources, name)["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_email_subscription_exists_only_with_an_address(benchmark_template: dict[str, Any]) -> None:
    subscription = benchmark_template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert benchmark_template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_alarms_can_be_switched_off() -> None:
    resources = render_dict(BenchmarkSpec.model_validate({"alarms": {"enabled": False}}))["Resources"]
    assert not of_type(resources, "AWS::CloudWatch::Alarm") and "AlarmTopic" not in resources


def test_dashboard_shows_rps_latency_ecs_and_rds(resources: dict[str, Any]) -> None:
    body, variables = props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    metrics = {
        row[1]
        for w in json.loads(body)["widgets"]
        for row in w["properties"]["metrics"]
        if isinstance(row[1:2] and row[1], str)
    }
    for needed in ("RequestCount", "TargetResponseTime", "CPUUtilization", "MemoryUtilization", "RunningTaskCount"):
        assert needed in metrics
    assert {"DatabaseConnections", "ReadIOPS", "WriteIOPS"} <= metrics
    assert set(variables) == {"Alb", "Db", "Cluster", "Service"}


def test_healthy_hosts_threshold_follows_a_smaller_minimum() -> None:
    spec = BenchmarkSpec.model_validate({"scaling": {"enabled": True, "min_tasks": 1}, "tasks": {"desired_count": 1}})
    assert alarm(render_dict(spec)["Resources"], "HealthyHostsAlarm")["Threshold"] == 1


def test_healthy_hosts_threshold_follows_a_smaller_fixed_fleet() -> None:
    spec = BenchmarkSpec.model_validate({"tasks": {"desired_count": 1}})
    assert alarm(render_dict(spec)["Resources"], "HealthyHostsAlarm")["Threshold"] == 1


@pytest.mark.parametrize(
    ("text", "start"),
    [
        # 2. TLS
        pytest.param(
            "https: {ssl_policy: ELBSecurityPolicy-2016-08}",
            "https.ssl_policy: ELBSecurityPolicy-2016-08 allows pre-TLS 1.2 clients",
            id="a_weak_tls_policy",
        ),
        pytest.param(
            "https: {certificate_arn: my-cert}",
            "https.certificate_arn: 'my-cert' is not an ACM certificate ARN",
            id="a_malformed_certificate_arn",
        ),
        # 4. alarms that normal operation would breach
        pytest.param(
            "scaling: {enabled: true, min_tasks: 2}\nalarms: {min_healthy_hosts: 3}",
            "alarms.min_healthy_hosts: 3 is above scaling.min_tasks (2)",
            id="a_healthy_hosts_threshold_above_min_tasks",
        ),
        pytest.param(
            "tasks: {desired_count: 2}\nalarms: {min_healthy_hosts: 3}",
            "alarms.min_healthy_hosts: 3 is above tasks.desired_count (2)",
            id="a_healthy_hosts_threshold_above_the_fixed_fleet",
        ),
        pytest.param(
            "alarms: {db_connections_fraction: 0.5}\nscaling: {enabled: true}",
            "alarms.db_connections_fraction: 0.5 x max_connections (500) is below the 400 connections the "
            "proxies' pools may open at 20 tasks",
            id="a_connections_alarm_below_the_pools",
        ),
        pytest.param(
            "alarms: {db_connections_fraction: 0.5}",
            "alarms.db_connections_fraction: 0.5 x max_connections (500) is below the 448",
            id="a_connections_alarm_below_a_fixed_fleets_pools",
        ),
    ],
)
def test_a_setting_that_would_break_operations_is_refused_in_one_line(text: str, start: str) -> None:
    (line,) = errors_of(text)
    assert line.startswith(start), line


# 5. Data safety --------------------------------------------------------------------------------


def test_database_is_encrypted(resources: dict[str, Any]) -> None:
    assert props(resources, "Database")["StorageEncrypted"] is True


def test_database_snapshots_on_delete_and_replacement(resources: dict[str, Any]) -> None:
    db = resources["Database"]
    assert (db["DeletionPolicy"], db["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")


def test_database_keeps_backups_for_a_week_at_least(resources: dict[str, Any]) -> None:
    assert props(resources, "Database")["BackupRetentionPeriod"] >= 7


def test_multi_az_and_deletion_protection_follow_the_spec() -> None:
    spec = BenchmarkSpec.model_validate({"database": {"multi_az": True, "deletion_protection": True}})
    db = render_dict(spec)["Resources"]["Database"]["Properties"]
    assert (db["MultiAZ"], db["DeletionProtection"]) == (True, True)


def test_performance_insights_only_where_the_class_supports_it(resources: dict[str, Any]) -> None:
    assert props(resources, "Database")["EnablePerformanceInsights"] == {
        "Fn::If": ["PerformanceInsightsSupported", True, False]
    }


def test_log_group_has_a_retention(resources: dict[str, Any]) -> None:
    assert props(resources, "ProxyLogGroup")["RetentionInDays"] == BenchmarkSpec().observability.log_retention_days


def test_every_secret_and_log_group_has_an_explicit_deletion_policy(resources: dict[str, Any]) -> None:
    kinds = ("AWS::SecretsManager::Secret", "AWS::Logs::LogGroup")
    for name, resource in resources.items():
        if resource["Type"] in kinds:
            assert resource.get("DeletionPolicy") and resource.get("UpdateReplacePolicy"), name


# 6. Redis --------------------------------------------------------------------------------------


def test_redis_is_off_by_default(resources: dict[str, Any]) -> None:
    assert not of_type(resources, "AWS::ElastiCache::ReplicationGroup")
    assert "REDIS_HOST" not in env(containers(resources)["litellm"])


def test_redis_encrypts_in_transit_with_a_generated_auth_token(redis_resources: dict[str, Any]) -> None:
    group = props(redis_resources, "RedisReplicationGroup")
    assert group["TransitEncryptionEnabled"] is True and group["AtRestEncryptionEnabled"] is True
    assert group["AuthToken"]["Fn::Sub"][1] == {"Arn": {"Ref": "RedisAuthTokenSecret"}}
    assert "GenerateSecretString" in props(redis_resources, "RedisAuthTokenSecret")


def test_redis_lives_in_the_private_subnets(redis_resources: dict[str, Any]) -> None:
    subnets = props(redis_resources, "RedisSubnetGroup")["SubnetIds"]
    assert subnets == [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]


def test_redis_accepts_only_the_tasks(redis_resources: dict[str, Any]) -> None:
    ingress = [
        r["Properties"]
        for r in of_type(redis_resources, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["RedisSecurityGroup", "GroupId"]}
    ]
    assert ingress == [
        {
            "GroupId": {"Fn::GetAtt": ["RedisSecurityGroup", "GroupId"]},
            "IpProtocol": "tcp",
            "FromPort": 6379,
            "ToPort": 6379,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["TaskSecurityGroup", "GroupId"]},
            "Description": "Redis from the LiteLLM tasks",
        }
    ]


def test_proxy_gets_redis_endpoint_tls_flag_and_injected_password(redis_resources: dict[str, Any]) -> None:
    proxy = containers(redis_resources)["litellm"]
    variables = env(proxy)
    assert variables["REDIS_HOST"] == {"Fn::GetAtt": ["RedisReplicationGroup", "PrimaryEndPoint.Address"]}
    assert variables["REDIS_SSL"] == "True"
    assert "REDIS_PASSWORD" in secret_names(proxy) and "REDIS_PASSWORD" not in variables


def test_execution_role_may_read_the_redis_token(redis_resources: dict[str, Any]) -> None:
    statements = props(redis_resources, "TaskExecutionRole")["Policies"][0]["PolicyDocument"]["Statement"]
    assert any({"Ref": "RedisAuthTokenSecret"} in s["Resource"] for s in statements)


def test_router_settings_reference_redis_and_never_enable_caching() -> None:
    settings = litellm_router_settings(BenchmarkSpec.model_validate({"redis": {"enabled": True}}))
    assert settings == {
        "redis_host": "os.environ/REDIS_HOST",
        "redis_port": "os.environ/REDIS_PORT",
        "redis_password": "os.environ/REDIS_PASSWORD",
    }
    assert "cache" not in proxy_config.litellm_config(BenchmarkSpec()).get("litellm_settings", {})
