"""A size budget per file the harness ships as gzip+base64 text in its task definitions.

The budgets sit about 20% above today's sizes: a payload that grows past one is a decision (ECS caps
a task definition at 64 KiB, and the master's carries the locustfile and high_throughput.py
together), not a side effect of formatting or a new feature.
"""

from __future__ import annotations

import pytest

from litellm_bench_cfn.harness.scripts import HarnessSources, encode_source

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
