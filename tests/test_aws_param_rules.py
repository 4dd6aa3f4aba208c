"""One-click launch: every rendered template needs no typing, groups/labels every parameter, and its
`Rules` agree with the spec on every parameter combination a console user can choose."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from litellm_bench_cfn import catalog
from litellm_bench_cfn.aws.param_rules import RuleEvaluationError, check_parameters
from litellm_bench_cfn.cfn_reader import evaluate_rule as evaluate
from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.spec import BenchmarkSpec

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT, render_dict

PROFILES = load_profiles(REPO_ROOT / "profiles")


@pytest.fixture(scope="module", params=PROFILES, ids=[p.spec.name for p in PROFILES])
def rendered(request: pytest.FixtureRequest) -> tuple[BenchmarkSpec, dict[str, Any]]:
    spec = request.param.spec
    return spec, render_dict(spec)


def test_every_parameter_has_a_default(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    assert [name for name, p in template["Parameters"].items() if "Default" not in p] == []


def test_defaults_pass_every_constraint_and_rule(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    assert check_parameters(template, {}) == []


def test_every_parameter_is_in_exactly_one_group_with_a_label(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])
    assert len(grouped) == len(set(grouped))
    assert all(group["Label"]["default"] for group in interface["ParameterGroups"])
    labels = interface["ParameterLabels"]
    assert sorted(labels) == sorted(template["Parameters"])
    assert all(labels[name]["default"] for name in labels)


def test_groups_cover_sizing_database_network_and_load_test(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    labels = [g["Label"]["default"] for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]]
    for wanted in ("sizing", "database", "network", "load test"):
        assert any(wanted in label.lower() for label in labels), wanted


def test_no_secret_is_a_parameter(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    assert not [n for n, p in template["Parameters"].items() if p.get("NoEcho")]
    generated = [r for r in template["Resources"].values() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert generated and all("GenerateSecretString" in r["Properties"] for r in generated)


def _spec_accepts(base: BenchmarkSpec, **parts: dict[str, Any]) -> bool:
    data = base.model_dump(mode="json")
    for section, values in parts.items():
        data[section] = {**data[section], **values}
    try:
        BenchmarkSpec.model_validate(data)
    except ValidationError:
        return False
    return True


def test_rules_agree_with_the_spec_on_every_cpu_memory_pair(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    spec, template = rendered
    memory = template["Parameters"]["TaskMemory"]
    sizes = [*range(int(memory["MinValue"]), int(memory["MaxValue"]) + 1, 512), 1000, 8193, 30721]
    disagreements = []
    for cpu in template["Parameters"]["TaskCpu"]["AllowedValues"]:
        for mem in sizes:
            stack_ok = check_parameters(template, {"TaskCpu": str(cpu), "TaskMemory": str(mem)}) == []
            spec_ok = _spec_accepts(spec, tasks={"cpu": int(cpu), "memory": mem})
            if stack_ok != spec_ok:
                disagreements.append((cpu, mem, stack_ok, spec_ok))
    assert disagreements == []


def test_rules_agree_with_the_spec_on_every_task_count_triple(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    spec, template = rendered
    if not spec.scaling.enabled:
        pytest.skip("a fixed fleet has no min/max: test_a_fixed_fleet_takes_only_the_counts_its_pools_fit")
    top = int(template["Parameters"]["MaxTaskCount"]["MaxValue"])
    disagreements = []
    for low, desired, high in itertools.product(range(1, top + 1), repeat=3):
        values = {"MinTaskCount": str(low), "DesiredTaskCount": str(desired), "MaxTaskCount": str(high)}
        stack_ok = check_parameters(template, values) == []
        spec_ok = _spec_accepts(spec, tasks={"desired_count": desired}, scaling={"min_tasks": low, "max_tasks": high})
        if stack_ok != spec_ok:
            disagreements.append((low, desired, high, stack_ok, spec_ok))
    assert disagreements == []


def test_a_fixed_fleet_takes_only_the_counts_its_pools_fit(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    spec, template = rendered
    if spec.scaling.enabled:
        pytest.skip("autoscaling: test_rules_agree_with_the_spec_on_every_task_count_triple")
    assert not {"MinTaskCount", "MaxTaskCount"} & set(template["Parameters"])
    accepted = [n for n in range(0, 2 * spec.tasks.desired_count + 2)
                if check_parameters(template, {"DesiredTaskCount": str(n)}) == []]  # fmt: skip
    assert accepted == list(range(1, spec.tasks.desired_count + 1))


def test_every_fargate_pair_in_the_catalog_is_accepted(rendered: tuple[BenchmarkSpec, dict[str, Any]]) -> None:
    _, template = rendered
    for cpu, memories in catalog.FARGATE_MEMORY_BY_CPU.items():
        for mem in memories:
            assert check_parameters(template, {"TaskCpu": str(cpu), "TaskMemory": str(mem)}) == [], (cpu, mem)


def test_evaluator_refuses_intrinsics_it_does_not_know() -> None:
    with pytest.raises(RuleEvaluationError):
        evaluate({"Fn::EachMemberEquals": [{"Ref": "A"}, "x"]}, {"A": "x"})


def test_evaluator_contains_and_not() -> None:
    rule = {"Fn::Not": [{"Fn::Contains": [["1", "2"], {"Ref": "A"}]}]}
    assert evaluate(rule, {"A": "3"}) is True
    assert evaluate(rule, {"A": "2"}) is False


def test_unknown_parameter_is_reported() -> None:
    import yaml

    template = yaml.safe_load(BENCHMARK_TEMPLATE.read_text())
    assert check_parameters(template, {"TaskCPU": "4096"})[0].startswith("TaskCPU: not a parameter of this template")


def _check_params(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "check-params", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


PRODUCTION = "templates/cloudformation-ecs-production.yaml"  # autoscaling: MinTaskCount and its Rules


def test_check_params_cli_accepts_a_valid_set() -> None:
    result = _check_params("--template", PRODUCTION, "DesiredTaskCount=3", "MinTaskCount=1")
    assert result.returncode == 0, result.stderr
    assert "parameters accepted (DesiredTaskCount=3, MinTaskCount=1)" in result.stdout


def test_check_params_cli_prints_one_line_per_problem_and_exits_2() -> None:
    result = _check_params("--template", PRODUCTION, "DesiredTaskCount=3", "MinTaskCount=5", "TaskMemory=4096")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "FargateTaskSize: TaskMemory must be a size Fargate offers for TaskCpu: 256 CPU takes 512-2048 MiB, 512: "
        "1024-4096, 1024: 2048-8192, 2048: 4096-16384, 4096: 8192-30720 (1024 steps), 8192: 16384-61440 (4096 "
        "steps), 16384: 32768-122880 (8192 steps).",
        "TaskCountRange: MinTaskCount must be a whole number no greater than DesiredTaskCount.",
    ]


SHORT_FORM = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Tasks: {Type: Number, Default: "2"}
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Rules:
  ProdNeedsTwoTasks:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert: !Contains [["2", "3", "4"], !Ref Tasks]
        AssertDescription: prod runs 2-4 tasks.
Resources:
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "${AWS::StackName}-t"}}
"""


def test_check_params_reads_short_form_intrinsics(tmp_path: Path) -> None:
    """A hand-written template in the console's short form (!Ref, !Equals): CloudFormation takes it,
    so check-params must read it, not fail on the tags."""
    template = tmp_path / "short.yaml"
    template.write_text(SHORT_FORM)
    accepted = _check_params("--template", str(template), "Env=prod", "Tasks=3")
    assert accepted.returncode == 0, accepted.stderr
    refused = _check_params("--template", str(template), "Env=prod", "Tasks=1")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == ["ProdNeedsTwoTasks: prod runs 2-4 tasks."]


def test_check_params_refuses_a_file_that_is_not_a_template(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: not-a-template\n")
    done = _check_params("--template", str(spec))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: {spec}: not a CloudFormation template (no Resources or AWSTemplateFormatVersion)"
    )
