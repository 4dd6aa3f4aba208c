"""Policy as code: cfn-guard rules fail a template that drifts from the guide; checkov skips are explained.

The tools live in ./.venv-checkov (`scripts/policy-check.sh --install`); without them these tests skip
with that instruction.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.stack.checkov import REASONS

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT

TOOLS = REPO_ROOT / ".venv-checkov" / "bin"
GUARD, CHECKOV = TOOLS / "cfn-guard", TOOLS / "checkov"
ALL_RULES, BENCHMARK_RULES = REPO_ROOT / "policy/guard/all", REPO_ROOT / "policy/guard/benchmark"
TEMPLATES = sorted((REPO_ROOT / "templates").glob("*.yaml"))


def need(tool: Path) -> None:
    if not tool.exists():
        pytest.skip(f"{tool.name} not installed: run scripts/policy-check.sh --install")


def guard(rules: Path, data: Path) -> tuple[int, str]:
    need(GUARD)
    done = subprocess.run(
        [str(GUARD), "validate", "-r", str(rules), "-d", str(data), "--show-summary", "fail"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


def write(tmp_path: Path, template: dict[str, Any], name: str = "drifted.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


def containers(t: dict[str, Any]) -> list[dict[str, Any]]:
    return t["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]  # type: ignore[no-any-return]


def proxy_env(t: dict[str, Any]) -> list[dict[str, Any]]:
    (proxy,) = [c for c in containers(t) if c["Name"] == "litellm"]
    return proxy["Environment"]  # type: ignore[no-any-return]


def set_env(t: dict[str, Any], name: str, value: str) -> None:
    for variable in proxy_env(t):
        if variable["Name"] == name:
            variable["Value"] = value


def db(t: dict[str, Any]) -> dict[str, Any]:
    return t["Resources"]["Database"]  # type: ignore[no-any-return]


PRODUCTION_TEMPLATE = REPO_ROOT / "templates" / "cloudformation-ecs-production.yaml"


def scaling_policy(metric: str) -> dict[str, Any]:
    """The production template's target-tracking policy (the benchmark has none), tracking `metric`."""
    policy = copy.deepcopy(yaml.safe_load(PRODUCTION_TEMPLATE.read_text())["Resources"]["ProxyCpuScalingPolicy"])
    policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"].update(
        PredefinedMetricType=metric
    )
    return policy  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def benchmark() -> dict[str, Any]:
    return yaml.safe_load(BENCHMARK_TEMPLATE.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_passes_the_security_rules(template: Path) -> None:
    code, output = guard(ALL_RULES, template)
    assert code == 0, output


def test_benchmark_template_passes_the_compliance_rules() -> None:
    code, output = guard(BENCHMARK_RULES, BENCHMARK_TEMPLATE)
    assert code == 0, output


SECURITY_DRIFTS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "public database": (
        "database_encrypted_and_private",
        lambda t: db(t)["Properties"].update(PubliclyAccessible=True),
    ),
    "unencrypted database": (
        "database_encrypted_and_private",
        lambda t: db(t)["Properties"].update(StorageEncrypted=False),
    ),
    "no final snapshot": ("database_survives_delete_and_replacement", lambda t: db(t).update(DeletionPolicy="Delete")),
    "public task ip": (
        "tasks_have_no_public_address",
        lambda t: t["Resources"]["ProxyService"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"].update(
            AssignPublicIp="ENABLED"
        ),
    ),
    "debug log level": ("no_debug_logging", lambda t: set_env(t, "LITELLM_LOG", "DEBUG")),
    "detailed debug flag": (
        "no_debug_logging",
        lambda t: containers(t)[0].update(Command=["--skip_server_startup", "--detailed_debug"]),
    ),
    "plain master key": (
        "no_plain_text_credentials",
        lambda t: proxy_env(t).append({"Name": "LITELLM_MASTER_KEY", "Value": "sk-1234"}),
    ),
    "world-open ingress": (
        "ingress_only_from_the_cidr_parameter_or_a_group",
        lambda t: t["Resources"]["LoadBalancerHttpIngress"]["Properties"].update(CidrIp="0.0.0.0/0"),
    ),
    "nat ingress widened": (
        "ingress_only_from_the_cidr_parameter_or_a_group",
        lambda t: t["Resources"]["LoadBalancerHttpIngressFromNat"]["Properties"].update(
            CidrIp={"Fn::Join": ["", [{"Ref": "NatGatewayIp"}, "/8"]]}
        ),
    ),
    "joined ingress from elsewhere": (
        "ingress_only_from_the_cidr_parameter_or_a_group",
        lambda t: t["Resources"]["LoadBalancerHttpIngressFromNat"]["Properties"].update(
            CidrIp={"Fn::Join": ["", ["0.0.0.0", "/0"]]}
        ),
    ),
    "weak tls policy": (
        "https_listeners_use_tls13_policy",
        lambda t: t["Resources"]["HttpsListener"]["Properties"].update(SslPolicy="ELBSecurityPolicy-2016-08"),
    ),
    "memory scaling": (
        "scale_on_cpu_never_memory",
        lambda t: t["Resources"].update(ProxyCpuScalingPolicy=scaling_policy("ECSServiceAverageMemoryUtilization")),
    ),
}


COMPLIANCE_DRIFTS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "2 vCPU tasks": ("task_size_is_the_guides", lambda t: t["Parameters"]["TaskCpu"].update(Default=2048)),
    "4 GB tasks": ("task_size_is_the_guides", lambda t: t["Parameters"]["TaskMemory"].update(Default=4096)),
    "2 workers": ("task_size_is_the_guides", lambda t: t["Parameters"]["WorkersPerTask"].update(Default=2)),
    "100 GB db": ("database_is_the_guides", lambda t: db(t)["Properties"].update(AllocatedStorage="100")),
    "gp2 db": ("database_is_the_guides", lambda t: db(t)["Properties"].update(StorageType="gp2")),
    "batch writes every 10 s": (
        "shipped_config_batches_writes_every_60s",
        lambda t: set_env(
            t,
            "LITELLM_CONFIG_YAML",
            next(v["Value"] for v in proxy_env(t) if v["Name"] == "LITELLM_CONFIG_YAML").replace(
                "proxy_batch_write_at: 60", "proxy_batch_write_at: 10"
            ),
        ),
    ),
    "info log level": ("proxy_logs_errors_only", lambda t: set_env(t, "LITELLM_LOG", "INFO")),
    "cpu autoscaling": (
        "fleet_is_fixed",
        lambda t: t["Resources"].update(ProxyCpuScalingPolicy=scaling_policy("ECSServiceAverageCPUUtilization")),
    ),
}


def drifts(rules: Path, rule_file: str, table: dict[str, tuple[str, Callable[[dict[str, Any]], None]]]) -> list[Any]:
    """One case per drift: the rule set to run, the rule that must fail (rule_file/rule), the change."""
    return [
        pytest.param(rules, f"{rule_file}/{rule}", change, id=f"{rule_file}: {name}")
        for name, (rule, change) in sorted(table.items())
    ]


@pytest.mark.parametrize(
    ("rules", "failing_rule", "change"),
    [
        *drifts(ALL_RULES, "security.guard", SECURITY_DRIFTS),
        *drifts(BENCHMARK_RULES, "compliance.guard", COMPLIANCE_DRIFTS),
    ],
)
def test_the_rules_fail_a_drifted_benchmark(
    rules: Path,
    failing_rule: str,
    change: Callable[[dict[str, Any]], None],
    benchmark: dict[str, Any],
    tmp_path: Path,
) -> None:
    drifted = copy.deepcopy(benchmark)
    change(drifted)
    code, output = guard(rules, write(tmp_path, drifted))
    assert code != 0 and failing_rule in output, output


def skipped_ids(template: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [s["id"] for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])]
        for name, r in template["Resources"].items()
    }


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_checkov_skip_carries_its_written_reason(template: Path) -> None:
    rendered = yaml.safe_load(template.read_text())
    for resource in rendered["Resources"].values():
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert entry["comment"] == REASONS[entry["id"]]


def test_every_reason_in_the_table_is_used(benchmark: dict[str, Any]) -> None:
    used = {i for t in TEMPLATES for ids in skipped_ids(yaml.safe_load(t.read_text())).values() for i in ids}
    assert set(REASONS) == used


@pytest.fixture(scope="module")
def checkov_results(benchmark: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """One checkov run over the committed templates plus a benchmark copy with one skip removed."""
    need(CHECKOV)
    directory = tmp_path_factory.mktemp("checkov")
    for template in TEMPLATES:
        (directory / template.name).write_text(template.read_text())
    drifted = copy.deepcopy(benchmark)
    del drifted["Resources"]["ProxyLogGroup"]["Metadata"]
    write(directory, drifted, "unexplained.yaml")
    done = subprocess.run(
        [str(CHECKOV), "--skip-download", "--framework", "cloudformation", "-d", str(directory), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    reports = json.loads(done.stdout)
    failed: dict[str, set[str]] = {t.name: set() for t in [*TEMPLATES, directory / "unexplained.yaml"]}
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report["results"]["failed_checks"]:
            failed[re.sub(r"^.*/", "", check["file_path"])].add(check["check_id"])
    return failed


def test_checkov_finds_no_unexplained_failure_in_any_template(checkov_results: dict[str, set[str]]) -> None:
    assert {name: ids for name, ids in checkov_results.items() if name != "unexplained.yaml" and ids} == {}


def test_checkov_fails_a_template_whose_skip_was_removed(checkov_results: dict[str, set[str]]) -> None:
    assert checkov_results["unexplained.yaml"] == {"CKV_AWS_158"}
