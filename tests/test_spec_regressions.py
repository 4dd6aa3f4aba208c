"""Issue #14's named samples, each pinned: what the schema accepted and then crashed, mis-rendered or
deployed wrong, and the whole class it stands for."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from pydantic import ValidationError

from litellm_bench_cfn import catalog
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.render import TEMPLATE_BODY_LIMIT, to_yaml
from litellm_bench_cfn.spec import DESCRIPTION_LIMIT, BenchmarkSpec
from litellm_bench_cfn.template import build_template

from .conftest import render_dict


def refusals(data: dict[str, Any]) -> list[str]:
    """The `field` of every line the spec is refused with, by a field check or a rule ([] when accepted)."""
    try:
        BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        return [
            field
            for e in exc.errors()
            for field in (
                [v[0] for v in e["ctx"]["violations"]] if e["type"] == "spec_rules" else [".".join(map(str, e["loc"]))]
            )
        ]
    return []


def lint_ids(spec: BenchmarkSpec) -> list[str]:
    return [m.rule.id for m in lint(to_yaml(build_template(spec)), config=ManualArgs(regions=["us-east-1"]))]


@pytest.mark.parametrize("per_gib", [51, 500, 1000])
def test_io2_takes_up_to_1000_iops_per_gib_and_renders(per_gib: int) -> None:
    spec = BenchmarkSpec.model_validate(
        {"database": {"storage_type": "io2", "allocated_storage_gib": 100, "iops": 100 * per_gib}}
    )
    database = render_dict(spec)["Resources"]["Database"]["Properties"]
    assert (database["StorageType"], database["Iops"]) == ("io2", 100 * per_gib)


def test_io2_above_1000_iops_per_gib_and_io1_above_50_are_refused() -> None:
    assert refusals({"database": {"storage_type": "io2", "allocated_storage_gib": 100, "iops": 100_100}}) == [
        "database.iops"
    ]
    assert refusals({"database": {"storage_type": "io1", "allocated_storage_gib": 100, "iops": 5_100}}) == [
        "database.iops"
    ]
    assert catalog.STORAGE_RULES["io2"].iops_per_gib == (0.5, 1000)


def test_alarms_off_leaves_no_console_label_for_a_missing_parameter() -> None:
    spec = BenchmarkSpec.model_validate({"alarms": {"enabled": False}})
    template = render_dict(spec)
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    named = {n for g in interface["ParameterGroups"] for n in g["Parameters"]} | set(interface["ParameterLabels"])
    assert "AlarmEmail" not in template["Parameters"]
    assert named == set(template["Parameters"])
    assert lint_ids(spec) == []


def test_description_is_held_to_cloudformations_1024_bytes_with_the_prefix() -> None:
    prefix = len("litellm-bench-cfn benchmark: ")
    fits = "é" * ((DESCRIPTION_LIMIT - prefix) // 2)  # two bytes each
    spec = BenchmarkSpec.model_validate({"description": fits})
    assert len(spec.template_description.encode()) <= DESCRIPTION_LIMIT
    assert render_dict(spec)["Description"] == spec.template_description
    assert refusals({"description": fits + "é"}) == ["description"]
    assert refusals({"description": "x" * 1100}) == ["description"]


@pytest.mark.parametrize("version, family", [("13.23", "postgres13"), ("15.19", "postgres15"), ("17.5", "postgres17")])
def test_parameter_group_family_follows_the_engine_major(version: str, family: str) -> None:
    spec = BenchmarkSpec.model_validate({"database": {"engine_version": version}})
    resources = render_dict(spec)["Resources"]
    assert resources["Database"]["Properties"]["EngineVersion"] == version
    assert resources["DatabaseParameterGroup"]["Properties"]["Family"] == family


@pytest.mark.parametrize("version", ["12.22", "12", "19", "16.1", "latest", "16.13.1", "9.6.24"])
def test_engine_versions_rds_does_not_create_are_refused(version: str) -> None:
    assert refusals({"database": {"engine_version": version}}) == ["database.engine_version"]


@pytest.mark.parametrize("version", ["13", "16", "18"])
def test_a_supported_major_alone_is_accepted(version: str) -> None:
    """RDS creates a major's default minor (versions.POSTGRES_ENGINE_VERSION pins the major for that)."""
    assert refusals({"database": {"engine_version": version}}) == []


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def big_spec(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(
        "name: big\nscaling: {enabled: true, min_tasks: 2, max_tasks: 40}\nlitellm: {workers: 2}\n"
        "database: {max_connections: 2000, reserved_connections: 100, instance_class: db.r6g.xlarge}\n"
        "alarms: {db_connections_fraction: 0.95}\n"
        "harness: {enabled: false}\n"
    )
    return path


def test_render_writes_a_template_over_51200_bytes_and_says_it_deploys_through_s3(tmp_path: Path) -> None:
    code, out, err = run_main("render", "--spec", str(big_spec(tmp_path)), "--out-dir", str(tmp_path / "out"))
    written = tmp_path / "out" / "cloudformation-ecs-big.yaml"
    assert code == 0, err
    size = len(written.read_bytes())
    assert size > TEMPLATE_BODY_LIMIT
    assert f"wrote {written} ({size} bytes)" in out
    assert err == (
        f"warning: {written}: {size} bytes is over the 51200-byte --template-body limit; deploy it through S3 "
        "(scripts/deploy.sh uploads it, publish and launch-url use S3 URLs)\n"
    )
    check = run_main("render", "--spec", str(tmp_path / "big.yaml"), "--out-dir", str(tmp_path / "out"), "--check")
    assert check[0] == 0


@pytest.mark.parametrize("max_tasks", [1, 4, 10, 40, 100])
def test_the_console_rules_are_a_fixed_set_whatever_max_tasks(max_tasks: int) -> None:
    spec = BenchmarkSpec.model_validate(
        {"tasks": {"desired_count": 1}, "scaling": {"enabled": True, "min_tasks": 1, "max_tasks": max_tasks},
         "litellm": {"workers": 1},
         "database": {"max_connections": 500, "reserved_connections": 100}, "harness": {"enabled": False}}
    )  # fmt: skip
    text = to_yaml(build_template(spec))
    rules = yaml.safe_load(text)["Rules"]
    assert sorted(rules) == ["FargateTaskSize", "TaskCountRange"]
    assert len(rules["TaskCountRange"]["Assertions"]) == 2
    assert len(text.encode()) < 110_000  # one rule per count: ~145 kB at 100 tasks


# Beyond the named samples: what the property tests and the probes behind them found.

FOUND: dict[str, tuple[dict[str, Any], str]] = {
    "deprecated engine version (W3691)": ({"database": {"engine_version": "13.20"}}, "database.engine_version"),
    "${ in a model name breaks the SmokeTestCommand Fn::Sub (E6101)": (
        {"litellm": {"models": [{"model_name": "gpt-${x}"}]}},
        "litellm.models.0.model_name",
    ),
    "a quote in a model name breaks the SmokeTestCommand shell line": (
        {"litellm": {"models": [{"model_name": "it's"}]}},
        "litellm.models.0.model_name",
    ),
    "an image repository with spaces": ({"litellm": {"image_repository": "not an image"}}, "litellm.image_repository"),
    "an image tag with spaces": ({"litellm": {"image_tag": "v 1"}}, "litellm.image_tag"),
    "a Redis version ElastiCache does not serve": (
        {"redis": {"enabled": True, "engine_version": "8.9"}},
        "redis.engine_version",
    ),
    "an RDS-reserved master user name": ({"database": {"master_username": "rdsadmin"}}, "database.master_username"),
    "a reserved word as the database name": ({"database": {"database_name": "user"}}, "database.database_name"),
    "a TLS13 policy that still takes TLS 1.0 clients": (
        {"https": {"ssl_policy": "ELBSecurityPolicy-TLS13-1-0-2021-06"}},
        "https.ssl_policy",
    ),
    "a TLS13 policy that does not exist": ({"https": {"ssl_policy": "ELBSecurityPolicy-TLS13-x"}}, "https.ssl_policy"),
    "request-count scaling on a fixed fleet (render crashed: KeyError ProxyScalableTarget)": (
        {"high_throughput": {"requests_per_target_per_s": 83}},
        "high_throughput.requests_per_target_per_s",
    ),
}


@pytest.mark.parametrize("data, field", FOUND.values(), ids=FOUND.keys())
def test_found_by_the_property_tests_is_refused_with_its_field(data: dict[str, Any], field: str) -> None:
    assert refusals(data) == [field]


@pytest.mark.parametrize("policy", catalog.ALB_TLS12_POLICIES)
def test_every_tls12_minimum_policy_is_accepted(policy: str) -> None:
    assert refusals({"https": {"ssl_policy": policy}}) == []


@pytest.mark.parametrize("name", ["fake-openai-endpoint", "gpt-4o-mini", "openai/gpt-4o", "claude-3.5@2024", "a:b+c"])
def test_ordinary_model_names_stay_accepted(name: str) -> None:
    assert refusals({"litellm": {"models": [{"model_name": name}]}}) == []


def test_a_config_too_large_for_an_ecs_task_definition_is_refused() -> None:
    """Found with a few hundred models: the config rides in the task definition (64 KiB at most)."""

    def models(n: int) -> dict[str, Any]:
        return {"litellm": {"models": [
            {"model_name": f"model-number-{i}", "litellm_params": {"model": "openai/gpt-4o-mini-2024-07-18", "rpm": 1}}
            for i in range(n)
        ]}}  # fmt: skip

    assert refusals(models(400)) == ["litellm.models"]
    spec = BenchmarkSpec.model_validate(models(250))
    task_definition = render_dict(spec)["Resources"]["ProxyTaskDefinition"]["Properties"]
    assert len(json.dumps(task_definition)) < 65_536


@pytest.mark.parametrize("value", ["1.5", "02", "2.0", "3.0"])
def test_a_fixed_fleet_refuses_a_desired_count_that_is_not_a_whole_number(value: str) -> None:
    """Found by the property tests: with scaling.enabled false the TaskCountRange rule is gone, and a
    Number parameter alone takes 1.5 or 02 (ECS would then fail the deploy, not the console)."""
    from litellm_bench_cfn.aws.param_rules import check_parameters

    template = yaml.safe_load(to_yaml(build_template(BenchmarkSpec())))
    assert not BenchmarkSpec().scaling.enabled
    assert check_parameters(template, {"DesiredTaskCount": value}) != []
    assert check_parameters(template, {"DesiredTaskCount": "3"}) == []
