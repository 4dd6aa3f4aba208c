"""Issue 13 items 5-8: images, ingress from the NAT, per-AZ NAT, kept salt key, engine pin, console metadata.

Each test evaluates the rendered templates (every profile's main template and, where the profile has
one, its harness template) as CloudFormation would: properties, conditions and intrinsics resolved
with task_runtime.Resolver, never by looking for a string.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn import cost
from litellm_bench_cfn.harness.scripts import (
    LOCUST_INSTALL_FAILED_EXIT_CODE,
    LOCUST_REQUIREMENT,
    HarnessSources,
    install_locust_script,
    locust_script,
)
from litellm_bench_cfn.harness.template import build_harness_template
from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import BenchmarkSpec
from litellm_bench_cfn.task_runtime import Resolver
from litellm_bench_cfn.versions import LOCUST_VERSION

from .conftest import REPO_ROOT, render_dict

NAT_ADDRESSES = {"NatGatewayIp": "198.51.100.7", "NatGatewayIp2": "198.51.100.8"}
NARROW = "203.0.113.0/24"
ALB_GROUP_ID = "sg-LoadBalancerSecurityGroup"


def _profiles() -> list[BenchmarkSpec]:
    return [p.spec for p in load_profiles(REPO_ROOT / "profiles")]


def rendered_templates() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every template `litellm-bench-cfn render` writes, rendered from the profiles."""
    sources = HarnessSources.from_package()
    for spec in _profiles():
        yield spec.name, render_dict(spec)
        if spec.harness.enabled:
            yield f"{spec.name}-harness", yaml.safe_load(to_yaml(build_harness_template(spec, sources)))


TEMPLATES = list(rendered_templates())
TEMPLATE_IDS = [name for name, _ in TEMPLATES]


# ---------------------------------------------------------------- item 5: images


def _images(template: dict[str, Any]) -> list[str]:
    return [
        container["Image"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
    ]


def _registry(image: str) -> str:
    """The registry host, as Docker resolves it: a first path part without `.`/`:` (or `localhost`) is Docker Hub."""
    first, _, rest = image.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        return "docker.io"
    return first


def test_registry_reading_matches_docker() -> None:
    assert _registry("locustio/locust:2.47.0") == "docker.io"
    assert _registry("python:3.12") == "docker.io"
    assert _registry("docker.io/library/python:3.12") == "docker.io"
    assert _registry("public.ecr.aws/docker/library/python:3.12") == "public.ecr.aws"
    assert _registry("ghcr.io/berriai/litellm-database:v1.106.2") == "ghcr.io"


@pytest.mark.parametrize(("name", "template"), TEMPLATES, ids=TEMPLATE_IDS)
def test_no_image_comes_from_docker_hub_and_every_image_is_pinned(name: str, template: dict[str, Any]) -> None:
    images = _images(template)
    assert images
    for image in images:
        assert isinstance(image, str), f"{name}: image {image!r} is not a literal"
        assert _registry(image) != "docker.io", f"{name}: {image} is pulled anonymously from Docker Hub"
        reference = image.rsplit("/", 1)[-1]
        digest = "@sha256:" in reference
        tag = reference.partition(":")[2]
        assert digest or re.fullmatch(r"v?\d+(\.\d+)+([-.][A-Za-z0-9.-]+)?", tag), f"{name}: {image} is not pinned"


FAKE_PYTHON = """#!/bin/sh
# Stand-in for the image's python3: no Locust installed; `-m pip` logs its argv and exits $PIP_EXIT.
if [ "$1" = -m ] && [ "$2" = pip ]; then echo "$@" >> "$PIP_LOG"; exit "$PIP_EXIT"; fi
exit 1
"""


def _run_install(tmp_path: Path, pip_exit: int) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python3").write_text(FAKE_PYTHON)
    (bin_dir / "python3").chmod(0o755)
    log = tmp_path / "pip.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PIP_LOG": str(log), "PIP_EXIT": str(pip_exit)}
    result = subprocess.run(
        ["/bin/sh", "-c", "set -eu\n" + install_locust_script() + "echo started\n"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return result, log.read_text() if log.exists() else ""


def test_locust_tasks_install_the_pinned_locust_when_the_image_lacks_it(tmp_path: Path) -> None:
    """The python image has no Locust: the start script pip-installs exactly the pinned version first."""
    assert f"locust=={LOCUST_VERSION}" == LOCUST_REQUIREMENT
    assert locust_script().startswith("set -eu\n" + install_locust_script())
    result, pip_calls = _run_install(tmp_path, pip_exit=0)
    assert result.returncode == 0 and result.stdout == "started\n"
    assert pip_calls.split()[:3] == ["-m", "pip", "install"] and pip_calls.split()[-1] == LOCUST_REQUIREMENT


def test_a_failed_locust_install_stops_the_task_with_one_line(tmp_path: Path) -> None:
    result, _ = _run_install(tmp_path, pip_exit=1)
    assert result.returncode == LOCUST_INSTALL_FAILED_EXIT_CODE and "started" not in result.stdout
    assert result.stderr.strip().count("\n") == 0 and f"could not install {LOCUST_REQUIREMENT}" in result.stderr


# ---------------------------------------------------------------- item 6: ingress from the NAT


def _admits(template: dict[str, Any], overrides: dict[str, str], source_ip: str, port: int) -> bool:
    """Whether the ALB's security group lets `source_ip` in on `port` (all rules, conditions evaluated)."""
    groups = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    resolver = Resolver(
        template,
        parameter_overrides=overrides,
        refs=NAT_ADDRESSES,
        attributes={f"{group}.GroupId": f"sg-{group}" for group in groups},
    )
    address = ipaddress.ip_address(source_ip)
    rules: list[dict[str, Any]] = []
    for logical_id, resource in template["Resources"].items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::SecurityGroupIngress":
            if resolver.resolve(properties["GroupId"]) == ALB_GROUP_ID:
                rules.append(resolver.resolve({k: v for k, v in properties.items() if k != "GroupId"}))
        elif resource["Type"] == "AWS::EC2::SecurityGroup" and logical_id == "LoadBalancerSecurityGroup":
            rules.extend(resolver.resolve(properties.get("SecurityGroupIngress", [])))
    return any(
        "CidrIp" in rule
        and address in ipaddress.ip_network(rule["CidrIp"])
        and rule["IpProtocol"] in ("tcp", "-1")
        and int(rule["FromPort"]) <= port <= int(rule["ToPort"])
        for rule in rules
    )


HTTPS = {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}


@pytest.mark.parametrize("nat_gateways", [1, 2])
def test_narrowed_ingress_still_admits_the_harness_through_the_nat(nat_gateways: int) -> None:
    spec = BenchmarkSpec.model_validate(
        {"network": {"allowed_ingress_cidr": NARROW, "nat_gateways": nat_gateways}, "harness": {"enabled": True}}
    )
    template = render_dict(spec)
    addresses = [NAT_ADDRESSES["NatGatewayIp"], NAT_ADDRESSES["NatGatewayIp2"]][:nat_gateways]
    for address in addresses:
        assert _admits(template, {}, address, 80)
        assert _admits(template, HTTPS, address, 443)
        assert not _admits(template, {}, address, 443)  # no HTTPS listener, no HTTPS rule
    assert _admits(template, {}, "203.0.113.9", 80)
    assert not _admits(template, {}, "192.0.2.1", 80)


def test_without_the_harness_the_nat_address_is_not_admitted() -> None:
    spec = BenchmarkSpec.model_validate({"network": {"allowed_ingress_cidr": NARROW}, "harness": {"enabled": False}})
    template = render_dict(spec)
    assert not _admits(template, {}, NAT_ADDRESSES["NatGatewayIp"], 80)
    assert not _admits(template, HTTPS, NAT_ADDRESSES["NatGatewayIp"], 443)
    assert _admits(template, HTTPS, "203.0.113.9", 443)


# ---------------------------------------------------------------- item 7a: one NAT gateway per AZ


def _private_routes(template: dict[str, Any]) -> dict[str, str]:
    """Private subnet -> the NAT gateway its route table's default route uses."""
    resources = template["Resources"]
    nat_of_table = {
        r["Properties"]["RouteTableId"]["Ref"]: r["Properties"]["NatGatewayId"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::Route" and "NatGatewayId" in r["Properties"]
    }
    return {
        r["Properties"]["SubnetId"]["Ref"]: nat_of_table[r["Properties"]["RouteTableId"]["Ref"]]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
        and r["Properties"]["SubnetId"]["Ref"].startswith("PrivateSubnet")
    }


def _nat_subnet_az(template: dict[str, Any], nat: str) -> int:
    resources = template["Resources"]
    subnet = resources[resources[nat]["Properties"]["SubnetId"]["Ref"]]
    return int(subnet["Properties"]["AvailabilityZone"]["Fn::Select"][0])


def test_two_nat_gateways_give_each_az_its_own_nat_and_route_table() -> None:
    template = render_dict(BenchmarkSpec.model_validate({"network": {"nat_gateways": 2}}))
    routes = _private_routes(template)
    assert set(routes) == {"PrivateSubnet1", "PrivateSubnet2"}
    assert routes["PrivateSubnet1"] != routes["PrivateSubnet2"]
    for subnet, nat in routes.items():
        private_az = int(template["Resources"][subnet]["Properties"]["AvailabilityZone"]["Fn::Select"][0])
        assert _nat_subnet_az(template, nat) == private_az


def test_one_nat_gateway_keeps_todays_logical_ids() -> None:
    template = render_dict(BenchmarkSpec())
    assert _private_routes(template) == {"PrivateSubnet1": "NatGateway", "PrivateSubnet2": "NatGateway"}
    assert "NatGateway2" not in template["Resources"]


def test_production_profile_runs_one_nat_gateway_per_az() -> None:
    (production,) = [s for s in _profiles() if s.name == "production"]
    assert production.network.nat_gateways == 2
    routes = _private_routes(render_dict(production))
    assert len(set(routes.values())) == 2


@pytest.mark.parametrize("nat_gateways", [1, 2])
def test_cost_model_counts_the_nat_gateways_of_the_spec(nat_gateways: int) -> None:
    spec = BenchmarkSpec.model_validate({"network": {"nat_gateways": nat_gateways}})
    template = render_dict(spec)
    in_template = sum(r["Type"] == "AWS::EC2::NatGateway" for r in template["Resources"].values())
    eips = sum(r["Type"] == "AWS::EC2::EIP" for r in template["Resources"].values())
    assert cost.nat_gateways_in_stack(spec) == in_template == nat_gateways
    assert cost.public_ipv4_in_stack(spec) == 2 + eips  # the ALB's two addresses + one per NAT gateway


# ---------------------------------------------------------------- item 7b: the salt key outlives the stack


MAIN_TEMPLATES = [t for t in TEMPLATES if not t[0].endswith("-harness")]
MAIN_IDS = [name for name, _ in MAIN_TEMPLATES]


@pytest.mark.parametrize(("name", "template"), MAIN_TEMPLATES, ids=MAIN_IDS)
def test_salt_key_is_kept_wherever_the_database_is_kept(name: str, template: dict[str, Any]) -> None:
    resources = template["Resources"]
    database, salt = resources["Database"], resources["SaltKeySecret"]
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        if database.get(policy, "Delete") in ("Snapshot", "Retain"):
            assert salt.get(policy) == "Retain", f"{name}: {policy} of the salt key"


def test_kept_salt_key_does_not_block_a_new_stack_of_the_same_name() -> None:
    """Secrets Manager refuses a second secret of the same name: a kept salt key named only after the
    stack would make the next `deploy` of that stack name fail. Two stacks of one name get two names."""
    template = render_dict(BenchmarkSpec())
    name = template["Resources"]["SaltKeySecret"]["Properties"]["Name"]
    stack_ids = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/litellm-bench-local/0f1e2d3c-aaaa-bbbb-cccc-000000000001",
        "arn:aws:cloudformation:us-east-1:123456789012:stack/litellm-bench-local/9a8b7c6d-aaaa-bbbb-cccc-000000000002",
    )
    names = {Resolver(template, refs={"AWS::StackId": stack_id}).resolve(name) for stack_id in stack_ids}
    assert names == {
        "litellm-bench-local/salt-key-0f1e2d3c-aaaa-bbbb-cccc-000000000001",
        "litellm-bench-local/salt-key-9a8b7c6d-aaaa-bbbb-cccc-000000000002",
    }


# ---------------------------------------------------------------- item 7d: engine version


@pytest.mark.parametrize(("name", "template"), MAIN_TEMPLATES, ids=MAIN_IDS)
def test_engine_version_is_the_major_with_minor_upgrades_and_a_matching_family(
    name: str, template: dict[str, Any]
) -> None:
    resources = template["Resources"]
    database = resources["Database"]["Properties"]
    assert re.fullmatch(r"\d+", database["EngineVersion"]), f"{name}: pin the major, RDS picks a supported minor"
    assert database["AutoMinorVersionUpgrade"] is True
    family = resources["DatabaseParameterGroup"]["Properties"]["Family"]
    assert family == f"postgres{database['EngineVersion']}"


def test_parameter_group_family_follows_the_spec_engine_version() -> None:
    template = render_dict(BenchmarkSpec.model_validate({"database": {"engine_version": "17"}}))
    assert template["Resources"]["Database"]["Properties"]["EngineVersion"] == "17"
    assert template["Resources"]["DatabaseParameterGroup"]["Properties"]["Family"] == "postgres17"


# ---------------------------------------------------------------- item 8: console metadata


@pytest.mark.parametrize(("name", "template"), TEMPLATES, ids=TEMPLATE_IDS)
def test_every_parameter_is_in_exactly_one_group_and_has_a_label(name: str, template: dict[str, Any]) -> None:
    interface = template.get("Metadata", {}).get("AWS::CloudFormation::Interface")
    assert interface, f"{name}: no AWS::CloudFormation::Interface"
    parameters = set(template["Parameters"])
    grouped = [p for group in interface["ParameterGroups"] for p in group["Parameters"]]
    assert all(group["Label"]["default"] for group in interface["ParameterGroups"])
    duplicated = {p for p in grouped if grouped.count(p) > 1}
    assert not duplicated, f"{name}: in more than one group: {sorted(duplicated)}"
    assert set(grouped) == parameters, (
        f"{name}: ungrouped {sorted(parameters - set(grouped))}, unknown {sorted(set(grouped) - parameters)}"
    )
    labels = interface["ParameterLabels"]
    assert set(labels) == parameters, f"{name}: unlabelled {sorted(parameters - set(labels))}"
    assert all(label["default"] for label in labels.values())


def test_the_major_alone_is_an_engine_version_cfn_lint_accepts() -> None:
    """W3691 is ignored on the DB (its data calls every bare major deprecated); E3691, the list of versions
    RDS takes, must still accept the value, so a typo cannot hide behind the ignore."""
    import json
    from importlib import resources as package_data

    schema = json.loads(
        package_data.files("cfnlint.data.schemas.extensions.aws_rds_dbinstance")
        .joinpath("engine_version.json")
        .read_text()
    )
    postgres = [
        rule["then"]["properties"]["EngineVersion"]["enum"]
        for rule in schema["allOf"]
        if rule.get("if", {}).get("properties", {}).get("Engine", {}).get("const") == "postgres"
    ]
    assert postgres and BenchmarkSpec().database.engine_version in postgres[0]
    ignored = render_dict(BenchmarkSpec())["Resources"]["Database"]["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
    assert ignored == ["W3691"]
