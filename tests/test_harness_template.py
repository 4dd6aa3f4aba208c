"""The in-VPC harness: the main stack's hooks (namespace, InVpcFakeEndpoint, exports) and the harness template."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.cli import main
from litellm_bench_cfn.harness.scripts import (
    FAKE_CODE_ENV,
    FAKE_ENDPOINT_SOURCE,
    LOCUST_CODE_ENV,
    LOCUSTFILE_SOURCE,
    MASTER_ROLE,
    ROLE_ENV,
    WORKER_ROLE,
    HarnessSources,
    decode_source,
)
from litellm_bench_cfn.harness.template import LOCUST_TASK_DEFINITION, build_harness_template
from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.render import TEMPLATE_BODY_LIMIT, to_yaml
from litellm_bench_cfn.spec import BenchmarkSpec, spec_rule_violations
from litellm_bench_cfn.stack.exports import EXPORT_KEYS
from litellm_bench_cfn.stack.service_discovery import IN_VPC_FAKE_ENDPOINT_URL
from litellm_bench_cfn.task_runtime import Resolver
from litellm_bench_cfn.template import build_template

from .conftest import REPO_ROOT, render_dict

HARNESS = REPO_ROOT / "templates" / "cloudformation-ecs-harness.yaml"
ON = BenchmarkSpec()
OFF = BenchmarkSpec.model_validate({"harness": {"enabled": False}})


@pytest.fixture(scope="module")
def harness() -> dict[str, Any]:
    return yaml.safe_load(HARNESS.read_text())


def _container(template: dict[str, Any], task_definition: str) -> dict[str, Any]:
    (container,) = template["Resources"][task_definition]["Properties"]["ContainerDefinitions"]
    return dict(container)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def _proxy_env(template: dict[str, Any]) -> dict[str, Any]:
    containers = template["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
    return _env(next(c for c in containers if c["Name"] == "litellm"))


def test_only_the_benchmark_profile_has_a_harness_template() -> None:
    names = {p.spec.name: p.harness_template_name for p in load_profiles(REPO_ROOT / "profiles")}
    assert names == {
        "benchmark": "cloudformation-ecs-harness.yaml",
        "dev": None,
        "high-throughput": "cloudformation-ecs-high-throughput-harness.yaml",
        "production": None,
        "provider-example": None,
    }


def test_both_templates_stay_under_the_template_body_limit(harness: dict[str, Any]) -> None:
    assert len(HARNESS.read_bytes()) <= TEMPLATE_BODY_LIMIT
    assert len((REPO_ROOT / "templates" / "cloudformation-ecs.yaml").read_bytes()) <= TEMPLATE_BODY_LIMIT


def test_render_check_covers_the_harness_template(tmp_path: Path) -> None:
    assert main(["render", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "cloudformation-ecs-harness.yaml").read_text() == HARNESS.read_text()
    (tmp_path / "cloudformation-ecs-harness.yaml").write_text("drifted\n")
    assert main(["render", "--check", "--out-dir", str(tmp_path)]) == 1


def test_main_template_points_the_proxy_at_the_in_vpc_endpoint_by_default() -> None:
    template = render_dict(ON)
    assert template["Parameters"]["InVpcFakeEndpoint"]["Default"] == "true"
    value = _proxy_env(template)["BENCHMARK_API_BASE"]
    assert Resolver(template).resolve(value) == IN_VPC_FAKE_ENDPOINT_URL
    off = Resolver(template, parameter_overrides={"InVpcFakeEndpoint": "false", "BenchmarkApiBase": "http://x/"})
    assert off.resolve(value) == "http://x/"


def test_main_template_without_harness_has_no_namespace_parameter_or_exports() -> None:
    template = render_dict(OFF)
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::ServiceDiscovery::PrivateDnsNamespace" not in types
    assert "InVpcFakeEndpoint" not in template["Parameters"]
    assert not [o for o in template["Outputs"].values() if "Export" in o]
    assert _proxy_env(template)["BENCHMARK_API_BASE"] == {"Ref": "BenchmarkApiBase"}


def test_every_import_of_the_harness_is_an_export_of_the_main_stack(harness: dict[str, Any]) -> None:
    exported = {
        o["Export"]["Name"]["Fn::Sub"].replace("${AWS::StackName}-", "")
        for o in render_dict(ON)["Outputs"].values()
        if "Export" in o
    }
    imported = set(re.findall(r"\$\{Stack\}-(\w+)", HARNESS.read_text()))
    assert exported == set(EXPORT_KEYS) and imported and imported <= exported


def test_shipped_code_is_the_repositorys_code(harness: dict[str, Any]) -> None:
    fake = _env(_container(harness, "FakeEndpointTaskDefinition"))[FAKE_CODE_ENV]
    assert decode_source(fake) == FAKE_ENDPOINT_SOURCE.read_bytes()
    code = _env(_container(harness, LOCUST_TASK_DEFINITION))[LOCUST_CODE_ENV]
    assert decode_source(code) == LOCUSTFILE_SOURCE.read_bytes()


def test_images_are_public_and_pinned(harness: dict[str, Any]) -> None:
    for task_definition in ("FakeEndpointTaskDefinition", LOCUST_TASK_DEFINITION):
        image = _container(harness, task_definition)["Image"]
        assert re.search(r":\d+\.\d+\.\d+", image) and "latest" not in image


def test_fake_endpoint_accepts_only_the_proxy_tasks(harness: dict[str, Any]) -> None:
    rule = harness["Resources"]["FakeEndpointIngressFromProxy"]["Properties"]
    assert (rule["FromPort"], rule["ToPort"]) == (8080, 8080)
    assert "TaskSg" in str(rule["SourceSecurityGroupId"]) and "CidrIp" not in rule


def test_fake_endpoint_registers_as_fake_openai_with_a_records(harness: dict[str, Any]) -> None:
    resources = harness["Resources"]
    discovery = resources["FakeEndpointDiscovery"]["Properties"]
    assert discovery["Name"] == "fake-openai"
    assert discovery["DnsConfig"]["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    service = resources["FakeEndpointService"]["Properties"]
    assert service["ServiceRegistries"] == [{"RegistryArn": {"Fn::GetAtt": ["FakeEndpointDiscovery", "Arn"]}}]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert harness["Parameters"]["FakeEndpointTasks"]["Default"] == ON.harness.fake_endpoint_tasks


def test_locust_tasks_get_the_master_key_from_ecs_secrets(harness: dict[str, Any]) -> None:
    container = _container(harness, LOCUST_TASK_DEFINITION)
    (secret,) = container["Secrets"]
    assert secret["Name"] == "LITELLM_MASTER_KEY_SECRET" and "KeyArn" in str(secret["ValueFrom"])
    assert "LITELLM_MASTER_KEY" not in _env(container)
    assert 'LITELLM_MASTER_KEY="sk-$LITELLM_MASTER_KEY_SECRET"' in container["Command"][0]


def test_locust_master_and_workers_are_task_definitions_not_services(harness: dict[str, Any]) -> None:
    services = [r for r in harness["Resources"].values() if r["Type"] == "AWS::ECS::Service"]
    assert [s["Properties"]["TaskDefinition"] for s in services] == [{"Ref": "FakeEndpointTaskDefinition"}]


def test_master_and_workers_share_one_task_definition_that_runs_as_the_master_as_is(harness: dict[str, Any]) -> None:
    """The role is a container override (bench aws); run unchanged (e.g. from the console) it is the master."""
    definitions = [k for k, r in harness["Resources"].items() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert sorted(definitions) == ["FakeEndpointTaskDefinition", LOCUST_TASK_DEFINITION]
    assert _env(_container(harness, LOCUST_TASK_DEFINITION))[ROLE_ENV] == MASTER_ROLE
    assert harness["Outputs"]["LocustTaskDefinition"]["Value"] == {"Ref": LOCUST_TASK_DEFINITION}


def test_web_ui_is_open_to_the_allowed_cidr_only(harness: dict[str, Any]) -> None:
    rule = harness["Resources"]["LocustWebUiIngress"]["Properties"]
    assert (rule["FromPort"], rule["CidrIp"]) == (8089, {"Ref": "AllowedIngressCidr"})


def test_master_defaults_are_the_guides_shape(harness: dict[str, Any]) -> None:
    env = _env(_container(harness, LOCUST_TASK_DEFINITION))
    assert (env["BENCH_USERS"], env["BENCH_SPAWN_RATE"], env["BENCH_RUN_TIME_S"]) == ("1000", "500", "300")


def test_spec_refuses_a_fake_endpoint_that_would_be_the_bottleneck() -> None:
    """Sized for the most proxies the stack runs: 10 autoscaled tasks need 2 fake endpoint tasks."""
    scaled = ON.model_copy(update={"scaling": ON.scaling.model_copy(update={"enabled": True})})
    spec = scaled.model_copy(update={"harness": ON.harness.model_copy(update={"fake_endpoint_tasks": 1})})
    messages = dict(spec_rule_violations(spec))
    assert "use at least 2 tasks" in messages["harness.fake_endpoint_tasks"]


def test_spec_refuses_too_few_locust_workers_for_the_users() -> None:
    spec = ON.model_copy(update={"harness": ON.harness.model_copy(update={"locust_workers": 1})})
    assert "use at least 2" in dict(spec_rule_violations(spec))["harness.locust_workers"]


@pytest.mark.skipif(shutil.which("cfn-lint") is None, reason="cfn-lint is installed by .ci/run")
def test_cfn_lint_is_clean_with_the_harness_on_and_off(tmp_path: Path) -> None:
    files = []
    for name, spec in (("on", ON), ("off", OFF)):
        path = tmp_path / f"main-{name}.yaml"
        path.write_text(to_yaml(build_template(spec)))
        files.append(path)
    harness = tmp_path / "harness.yaml"
    harness.write_text(to_yaml(build_harness_template(ON, HarnessSources.from_package())))
    result = subprocess.run(["cfn-lint", *map(str, [*files, harness])], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def _run_locust_script(tmp_path: Path, harness: dict[str, Any], **overrides: str) -> subprocess.CompletedProcess[str]:
    """The Locust container's start script under sh with the template's environment plus `overrides` (what
    run_task's container overrides set); `locust` is a stub that prints its argv, python3 this venv's (the
    pinned Locust installed: the script's install step has nothing to do and never reaches the network)."""
    stub = tmp_path / "bin" / "locust"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "ARGS $*"\n')
    stub.chmod(0o755)
    container = _container(harness, LOCUST_TASK_DEFINITION)
    environment = {k: v for k, v in _env(container).items() if isinstance(v, str)}
    environment.update(
        PATH=f"{stub.parent}:{Path(sys.executable).parent}:/usr/bin:/bin",
        TMPDIR=str(tmp_path),
        LITELLM_MASTER_KEY_SECRET="x" * 20,
        BENCH_TARGET="http://alb.example/",  # imported (Fn::ImportValue) in the template
        BENCH_WORKERS="2",  # Ref LocustWorkers
        **overrides,
    )
    return subprocess.run(
        ["/bin/sh", "-c", container["Command"][0]], env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_locust_task_run_as_is_is_the_headless_master(tmp_path: Path, harness: dict[str, Any]) -> None:
    result = _run_locust_script(tmp_path, harness)
    assert result.returncode == 0, result.stderr
    assert f"ARGS -f {tmp_path / 'litellm-bench' / 'locustfile.py'} --master " in result.stdout
    assert "--headless" in result.stdout and "--expect-workers 2 " in result.stdout
    assert "LITELLM-BENCH-RESULTS END" in result.stdout  # the results block bench aws reads back


def test_the_locust_task_overridden_to_the_worker_role_is_a_worker(tmp_path: Path, harness: dict[str, Any]) -> None:
    result = _run_locust_script(tmp_path, harness, BENCH_ROLE=WORKER_ROLE, BENCH_MASTER_HOST="10.0.0.9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ARGS ") and " --worker --master-host 10.0.0.9 --master-port 5557 " in result.stdout
    assert "--master " not in result.stdout and "LITELLM-BENCH-RESULTS" not in result.stdout


def test_an_unknown_locust_role_is_one_line_and_exit_78(tmp_path: Path, harness: dict[str, Any]) -> None:
    result = _run_locust_script(tmp_path, harness, BENCH_ROLE="boss")
    assert result.returncode == 78 and "ARGS" not in result.stdout
    assert result.stderr.strip() == (
        "litellm-bench-cfn: BENCH_ROLE is 'boss': bench aws runs this task as master or worker"
    )


def test_harness_logs_block_where_the_proxys_drop_under_pressure(harness: dict[str, Any]) -> None:
    """The master's results travel through its log: the harness's awslogs never drop a line (blocking,
    awslogs' default), while every proxy-task container logs non-blocking so a slow CloudWatch never
    stalls a request (stack/ecs_tasks.log_configuration)."""
    for task_definition in ("FakeEndpointTaskDefinition", LOCUST_TASK_DEFINITION):
        options = _container(harness, task_definition)["LogConfiguration"]["Options"]
        assert "mode" not in options and "max-buffer-size" not in options
    for template in (render_dict(ON), render_dict(OFF)):
        containers = template["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
        modes = {c["Name"]: c["LogConfiguration"]["Options"].get("mode") for c in containers}
        assert set(modes.values()) == {"non-blocking"}, modes
        assert {c["LogConfiguration"]["Options"]["max-buffer-size"] for c in containers} == {"25m"}
