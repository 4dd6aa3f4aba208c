"""CloudFormation `Rules`: reject, before anything is created, parameter combinations the spec rejects.

Rules have no arithmetic or comparison, only Fn::Equals/Contains/And/Or/Not, so an order between two
counts is written as a search over runs of the values they may take (`at_most`): one rule, nested
two levels deep for 100 tasks, instead of one rule per possible count.
"""

from __future__ import annotations

from collections.abc import Sequence

from troposphere import And, Equals, Or, Parameter, Ref, Template

from .. import catalog
from .parameters import Parameters


def _contains(values: list[str], param: object) -> dict[str, object]:
    return {"Fn::Contains": [values, Ref(param)]}


MAX_OR_CONDITIONS = 10
"""Fn::Or takes 2 to 10 conditions."""


def at_most(low: Parameter, high: Parameter, values: Sequence[int]) -> object:
    """Condition `low <= high` for two parameters that must take one of the sorted `values`.

    Up to 10 values: high is some v and low is among the values up to v. More: cut the values
    into at most 10 runs of 10, 100, ... values; high lies in one run, and low lies in an earlier
    run or, within the same run, at most high (recursively). Both parameters are looked up in
    explicit lists on every branch, so a value outside `values` (3.5, 07) satisfies none and the
    assertion fails.
    """
    names = [str(v) for v in values]
    if len(values) == 1:
        return And(Equals(Ref(high), names[0]), Equals(Ref(low), names[0]))
    if len(values) <= MAX_OR_CONDITIONS:
        return Or(*(And(Equals(Ref(high), v), _contains(names[: i + 1], low)) for i, v in enumerate(names)))
    size = MAX_OR_CONDITIONS
    while size * MAX_OR_CONDITIONS < len(values):
        size *= MAX_OR_CONDITIONS
    runs = [list(values[i : i + size]) for i in range(0, len(values), size)]
    branches = []
    for start, run in zip(range(0, len(values), size), runs, strict=True):
        within = at_most(low, high, run)
        below = Or(_contains(names[:start], low), within) if start else within
        branches.append(And(_contains([str(v) for v in run], high), below))
    return Or(*branches)


def add_rules(template: Template, params: Parameters, max_tasks: int) -> None:
    pairs = [
        And(Equals(Ref(params.task_cpu), str(cpu)), _contains([str(m) for m in memories], params.task_memory))
        for cpu, memories in sorted(catalog.FARGATE_MEMORY_BY_CPU.items())
    ]
    template.add_rule(
        "FargateTaskSize",
        {
            "Assertions": [
                {
                    "Assert": Or(*pairs),
                    "AssertDescription": "TaskMemory must be a size Fargate offers for TaskCpu: 256 CPU takes "
                    "512-2048 MiB, 512: 1024-4096, 1024: 2048-8192, 2048: 4096-16384, 4096: 8192-30720 "
                    "(1024 steps), 8192: 16384-61440 (4096 steps), 16384: 32768-122880 (8192 steps).",
                }
            ]
        },
    )
    counts = list(range(1, max_tasks + 1))
    if params.min_count is None or params.max_count is None:
        # A fixed fleet: the bounds are on the parameter, but a Number parameter also takes 1.5 or 02.
        template.add_rule(
            "DesiredTaskCountWhole",
            {
                "Assertions": [
                    {
                        "Assert": _contains([str(v) for v in counts], params.desired_count),
                        "AssertDescription": "DesiredTaskCount must be a whole number (no decimals, no leading 0).",
                    }
                ]
            },
        )
        return
    template.add_rule(
        "TaskCountRange",
        {
            "Assertions": [
                {
                    "Assert": at_most(params.min_count, params.desired_count, counts),
                    "AssertDescription": "MinTaskCount must be a whole number no greater than DesiredTaskCount.",
                },
                {
                    "Assert": at_most(params.desired_count, params.max_count, counts),
                    "AssertDescription": "MaxTaskCount must be a whole number no smaller than DesiredTaskCount.",
                },
            ]
        },
    )
