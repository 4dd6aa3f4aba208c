"""A size budget per file the harness ships as gzip+base64 text in its task definitions, and one copy each.

The budgets sit about 20% above today's sizes: a payload that grows past one is a decision (ECS caps
a task definition at 64 KiB, and the Locust one carries the locustfile and high_throughput.py
together), not a side effect of formatting or a new feature. Each file travels once per harness
template: master and workers share one task definition (the role is a container override), so a
second copy would only eat into the 51,200-byte template-body limit.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from litellm_bench_cfn.harness.scripts import HarnessSources, encode_source

from .conftest import REPO_ROOT

HARNESS_TEMPLATES = sorted((REPO_ROOT / "templates").glob("*-harness.yaml"))

BUDGET_BYTES = {"fake_endpoint": 8 * 1024, "locustfile": 12 * 1024, "high_throughput": 6 * 1024}
TASK_DEFINITION_LIMIT = 64 * 1024
"""ECS's limit on a task definition's size."""


@pytest.mark.parametrize("name", sorted(BUDGET_BYTES))
def test_each_shipped_payload_is_within_its_budget(name: str) -> None:
    encoded = encode_source(getattr(HarnessSources.from_package(), name))
    assert len(encoded) <= BUDGET_BYTES[name], f"{name}: {len(encoded)} bytes over its {BUDGET_BYTES[name]} budget"


def test_the_master_payloads_leave_half_the_task_definition_free() -> None:
    sources = HarnessSources.from_package()
    master = len(encode_source(sources.locustfile)) + len(encode_source(sources.high_throughput))
    assert master <= TASK_DEFINITION_LIMIT // 2


def test_there_are_harness_templates_to_check() -> None:
    assert [p.name for p in HARNESS_TEMPLATES] == [
        "cloudformation-ecs-harness.yaml",
        "cloudformation-ecs-high-throughput-harness.yaml",
    ]


@pytest.mark.parametrize("path", HARNESS_TEMPLATES, ids=lambda p: p.name)
def test_each_shipped_file_travels_once_per_harness_template(path: Path) -> None:
    text = path.read_text()
    resources = yaml.safe_load(text)["Resources"].values()
    payload_variables = Counter(
        variable["Name"]
        for resource in resources
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
        for variable in container.get("Environment", [])
        if variable["Name"].endswith("_PY_GZ")
    )
    assert payload_variables and set(payload_variables.values()) == {1}, payload_variables
    sources = HarnessSources.from_package()
    for name in ("fake_endpoint", "locustfile"):
        assert text.count(encode_source(getattr(sources, name))) == 1, name
    high_throughput = text.count(encode_source(sources.high_throughput))
    assert high_throughput == (1 if "high-throughput" in path.name else 0)
