"""Properties of the rendered benchmark stack, one behaviour per test (CDK-assertions style)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from litellm_bench_cfn.render import TEMPLATE_BODY_LIMIT, to_yaml
from litellm_bench_cfn.spec import BenchmarkSpec
from litellm_bench_cfn.template import build_template

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT, render_dict


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def only(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = of_type(resources, kind).values()
    return resource["Properties"]


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def group_id(name: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, "GroupId"]}


def test_committed_template_is_a_fresh_render() -> None:
    assert BENCHMARK_TEMPLATE.read_text() == to_yaml(build_template(BenchmarkSpec(name="benchmark")))


def test_render_is_byte_stable() -> None:
    assert to_yaml(build_template(BenchmarkSpec())) == to_yaml(build_template(BenchmarkSpec()))


def test_template_fits_the_template_body_limit() -> None:
    assert len(BENCHMARK_TEMPLATE.read_bytes()) <= TEMPLATE_BODY_LIMIT


def test_template_uses_long_form_intrinsics_only() -> None:
    text = BENCHMARK_TEMPLATE.read_text()
    assert not re.search(r"(^|\s)!(Ref|GetAtt|Sub|Join|If|Select|GetAZs|FindInMap|Equals)\b", text)


def test_vpc_has_two_public_and_two_private_subnets_in_two_azs(resources: dict[str, Any]) -> None:
    subnets = of_type(resources, "AWS::EC2::Subnet")
    cidrs = {name: s["Properties"]["CidrBlock"] for name, s in subnets.items()}
    assert cidrs == {
        "PublicSubnet1": "10.0.1.0/24",
        "PublicSubnet2": "10.0.2.0/24",
        "PrivateSubnet1": "10.0.11.0/24",
        "PrivateSubnet2": "10.0.12.0/24",
    }
    azs = {name: json.dumps(s["Properties"]["AvailabilityZone"]) for name, s in subnets.items()}
    assert azs["PublicSubnet1"] == azs["PrivateSubnet1"] != azs["PublicSubnet2"] == azs["PrivateSubnet2"]


def test_private_subnets_route_through_the_nat_gateway(resources: dict[str, Any]) -> None:
    route = resources["PrivateDefaultRoute"]["Properties"]
    assert route["NatGatewayId"] == ref("NatGateway")
    associations = of_type(resources, "AWS::EC2::SubnetRouteTableAssociation").values()
    private_tables = {a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"]["Ref"] for a in associations}
    assert private_tables["PrivateSubnet1"] == private_tables["PrivateSubnet2"] == route["RouteTableId"]["Ref"]


def test_service_runs_in_private_subnets_without_public_ip(resources: dict[str, Any]) -> None:
    network = only(resources, "AWS::ECS::Service")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == [ref("PrivateSubnet1"), ref("PrivateSubnet2")]
    assert network["SecurityGroups"] == [ref("TaskSecurityGroup")]


def ingress_rules(resources: dict[str, Any], group: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in of_type(resources, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == group_id(group)
    ]


@pytest.mark.parametrize(
    ("group", "port", "source"),
    [
        pytest.param("DatabaseSecurityGroup", 5432, "TaskSecurityGroup", id="db_accepts_5432_only_from_the_tasks"),
        pytest.param("TaskSecurityGroup", 4000, "LoadBalancerSecurityGroup", id="tasks_accept_4000_only_from_the_alb"),
    ],
)
def test_a_group_accepts_its_port_only_from_the_group_in_front(
    resources: dict[str, Any], group: str, port: int, source: str
) -> None:
    (rule,) = ingress_rules(resources, group)
    assert (rule["FromPort"], rule["ToPort"], rule["SourceSecurityGroupId"]) == (port, port, group_id(source))
    assert "SecurityGroupIngress" not in resources[group]["Properties"]  # no inline rule beside the one above


def test_load_balancer_accepts_http_from_the_allowed_cidr_parameter(resources: dict[str, Any]) -> None:
    """The allowed CIDR, and (harness hooks on: issue 13 item 6) this VPC's NAT address for the in-VPC Locust."""
    rules = ingress_rules(resources, "LoadBalancerSecurityGroup")
    nat = {"Fn::Join": ["", [ref("NatGatewayIp"), "/32"]]}
    assert {(r["FromPort"], json.dumps(r["CidrIp"])) for r in rules} <= {
        (80, json.dumps(ref("AllowedIngressCidr"))),
        (443, json.dumps(ref("AllowedIngressCidr"))),
        (80, json.dumps(nat)),
        (443, json.dumps(nat)),
    }
    assert any(r["FromPort"] == 80 for r in rules)


def test_target_group_checks_readiness(resources: dict[str, Any]) -> None:
    tg = only(resources, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"]) == ("/health/readiness", 30)
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"], tg["TargetType"]) == (2, 3, "ip")


def proxy_container(resources: dict[str, Any]) -> dict[str, Any]:
    definitions = only(resources, "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    (container,) = [c for c in definitions if c["Name"] == "litellm"]
    return container


def test_container_health_check_is_liveliness(resources: dict[str, Any]) -> None:
    command = proxy_container(resources)["HealthCheck"]["Command"]
    assert command[0] == "CMD-SHELL" and "http://127.0.0.1:4000/health/liveliness" in command[1]


def test_task_definition_is_fargate_sized_by_parameters(resources: dict[str, Any]) -> None:
    task = only(resources, "AWS::ECS::TaskDefinition")
    assert task["RequiresCompatibilities"] == ["FARGATE"] and task["NetworkMode"] == "awsvpc"
    assert (task["Cpu"], task["Memory"]) == (ref("TaskCpu"), ref("TaskMemory"))


def test_container_runs_the_pinned_litellm_database_image(resources: dict[str, Any]) -> None:
    from litellm_bench_cfn.versions import LITELLM_VERSION

    image = proxy_container(resources)["Image"]
    assert image.startswith("ghcr.io/berriai/litellm-database:") and image.endswith(LITELLM_VERSION)


def test_logs_go_to_the_stack_log_group(resources: dict[str, Any]) -> None:
    log = proxy_container(resources)["LogConfiguration"]
    assert log["LogDriver"] == "awslogs" and log["Options"]["awslogs-group"] == ref("ProxyLogGroup")
    assert only(resources, "AWS::Logs::LogGroup")["RetentionInDays"] == 7


def test_secrets_are_injected_by_ecs_not_as_plain_environment(resources: dict[str, Any]) -> None:
    container = proxy_container(resources)
    injected = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert injected == {
        "DATABASE_PASSWORD": ref("DatabasePasswordSecret"),
        "LITELLM_SALT_KEY": ref("SaltKeySecret"),
        "LITELLM_MASTER_KEY_SECRET": ref("MasterKeySecret"),
    }
    plain = {e["Name"] for e in container["Environment"]}
    assert not plain & {"DATABASE_PASSWORD", "DATABASE_URL", "LITELLM_MASTER_KEY", "LITELLM_SALT_KEY"}


def test_secrets_are_generated_in_the_stack(resources: dict[str, Any]) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"DatabasePasswordSecret", "MasterKeySecret", "SaltKeySecret"}
    assert all("GenerateSecretString" in s["Properties"] for s in secrets.values())
    assert all("SecretString" not in s["Properties"] for s in secrets.values())


def test_db_password_comes_from_secrets_manager(resources: dict[str, Any]) -> None:
    password = only(resources, "AWS::RDS::DBInstance")["MasterUserPassword"]
    assert password == {
        "Fn::Sub": [
            "{{resolve:secretsmanager:${SecretArn}:SecretString}}",
            {"SecretArn": ref("DatabasePasswordSecret")},
        ]
    }


def test_database_is_private_encrypted_and_sized_as_the_guide(resources: dict[str, Any]) -> None:
    db = only(resources, "AWS::RDS::DBInstance")
    assert (db["Engine"], db["PubliclyAccessible"], db["StorageEncrypted"]) == ("postgres", False, True)
    assert (db["AllocatedStorage"], db["StorageType"], db["BackupRetentionPeriod"]) == ("200", "gp3", 7)
    assert db["DBInstanceClass"] == ref("DBInstanceClass")
    assert "Iops" not in db and "StorageThroughput" not in db
    assert resources["Database"]["DeletionPolicy"] == resources["Database"]["UpdateReplacePolicy"] == "Snapshot"


def test_parameter_group_carries_seed_003_settings(resources: dict[str, Any]) -> None:
    params = only(resources, "AWS::RDS::DBParameterGroup")
    assert params["Family"] == "postgres16"
    assert params["Parameters"]["max_connections"] == "500"
    assert params["Parameters"]["shared_buffers"] == "{DBInstanceClassMemory/32768}"


def test_execution_role_reads_only_this_stacks_secrets(resources: dict[str, Any]) -> None:
    (policy,) = resources["TaskExecutionRole"]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    secrets = next(s for s in statements if s["Action"] == ["secretsmanager:GetSecretValue"])
    assert secrets["Resource"] == [ref("DatabasePasswordSecret"), ref("MasterKeySecret"), ref("SaltKeySecret")]
    assert all("*" not in json.dumps(s["Action"]) and s["Resource"] != "*" for s in statements)
    assert "ManagedPolicyArns" not in resources["TaskExecutionRole"]["Properties"]


def test_autoscaling_tracks_cpu_between_parameter_bounds() -> None:
    resources = render_dict(BenchmarkSpec.model_validate({"scaling": {"enabled": True}}))["Resources"]
    target = only(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (ref("MinTaskCount"), ref("MaxTaskCount"))
    policy = only(resources, "AWS::ApplicationAutoScaling::ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert policy["TargetValue"] == 70
    assert policy["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"


def test_every_output_has_a_description(benchmark_template: dict[str, Any]) -> None:
    outputs = benchmark_template["Outputs"]
    assert {
        "LoadBalancerUrl",
        "ApiEndpoint",
        "MasterKeySecretArn",
        "ClusterName",
        "ServiceName",
        "LogGroupName",
    } <= set(outputs)
    assert all(o.get("Description") for o in outputs.values())


def test_parameters_take_defaults_from_the_spec() -> None:
    spec = BenchmarkSpec.model_validate({"tasks": {"cpu": 2048, "memory": 4096, "desired_count": 3}})
    params = render_dict(spec)["Parameters"]
    assert (params["TaskCpu"]["Default"], params["TaskMemory"]["Default"], params["DesiredTaskCount"]["Default"]) == (
        2048,
        4096,
        3,
    )


def test_db_class_choices_hold_the_configured_connections(benchmark_template: dict[str, Any]) -> None:
    allowed = benchmark_template["Parameters"]["DBInstanceClass"]["AllowedValues"]
    assert "db.r6g.xlarge" in allowed and "db.t3.micro" not in allowed


def test_provisioned_gp3_storage_is_rendered() -> None:
    spec = BenchmarkSpec.model_validate(
        {"database": {"allocated_storage_gib": 400, "iops": 12000, "storage_throughput_mibps": 500}}
    )
    db = render_dict(spec)["Resources"]["Database"]["Properties"]
    assert (db["Iops"], db["StorageThroughput"]) == (12000, 500)


@pytest.mark.skipif(shutil.which("cfn-lint") is None, reason="cfn-lint is installed by .ci/run")
def test_cfn_lint_reports_nothing_on_every_committed_template() -> None:
    templates = sorted((REPO_ROOT / "templates").glob("*.yaml"))
    assert templates
    result = subprocess.run(["cfn-lint", *map(str, templates)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "templates").glob("*.yaml")), ids=lambda p: p.name)
def test_no_template_ships_debug_logging(path: Any) -> None:
    # --detailed_debug cuts throughput ~17x; LITELLM_LOG=DEBUG ~10x (docs/performance.md).
    text = path.read_text()
    assert "--detailed_debug" not in text and "--debug" not in text
    assert not re.search(r"LITELLM_LOG\W+Value: (DEBUG|INFO)", text)
    assert "set_verbose: true" not in text.lower()


def test_committed_template_holds_no_secret_value(benchmark_template: dict[str, Any]) -> None:
    text = BENCHMARK_TEMPLATE.read_text()
    assert "sk-1234" not in text and "{{resolve:secretsmanager:" in text
    for secret in of_type(benchmark_template["Resources"], "AWS::SecretsManager::Secret").values():
        assert "SecretString" not in secret["Properties"]


def test_start_script_passes_the_config_file_and_the_measured_server(resources: dict[str, Any]) -> None:
    container = proxy_container(resources)
    assert container["EntryPoint"] == ["/bin/sh", "-c"]
    exec_line = container["Command"][0].strip().splitlines()[-1]
    # --config, not CONFIG_FILE_PATH: LiteLLM reads the DB pool settings only from --config.
    assert exec_line.startswith('exec docker/prod_entrypoint.sh --config "$cfg"')
    # uvicorn, the only server whose keep-alive LiteLLM sets (docs/performance.md, run 5).
    assert "--run_" not in exec_line  # no --run_gunicorn, --run_granian, ...: uvicorn
    assert exec_line.endswith('--keepalive_timeout "$KEEPALIVE_TIMEOUT"')


def test_uvicorn_server_keeps_the_worker_boot_timeout() -> None:
    spec = BenchmarkSpec.model_validate({"litellm": {"server": "uvicorn"}})
    (container,) = [
        c
        for c in render_dict(spec)["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
        if c["Name"] == "litellm"
    ]
    assert "--timeout_worker_healthcheck" in container["Command"][0] and "--run_gunicorn" not in container["Command"][0]


def test_proxy_keepalive_exceeds_the_load_balancers_idle_timeout(resources: dict[str, Any]) -> None:
    container = proxy_container(resources)
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    (balancer,) = of_type(resources, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert int(environment["KEEPALIVE_TIMEOUT"]) == 75 > int(attributes["idle_timeout.timeout_seconds"]) == 60
    # The flag reads the variable: LiteLLM hands --keepalive_timeout to uvicorn's timeout_keep_alive.
    assert '--keepalive_timeout "$KEEPALIVE_TIMEOUT"' in container["Command"][0]
