"""CloudFormation `Rules`: reject, before anything is created, parameter combinations the spec rejects.

Rules have no arithmetic or comparison, so each rule enumerates the allowed values.
"""

from __future__ import annotations

from troposphere import And, Equals, Or, Ref, Template

from .. import catalog
from .parameters import Parameters


def _contains(values: list[str], param: object) -> dict[str, object]:
    return {"Fn::Contains": [values, Ref(param)]}


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
    if params.min_count is None or params.max_count is None:
        return  # a fixed fleet: DesiredTaskCount's own bounds say all there is
    for desired in range(1, max_tasks + 1):
        template.add_rule(
            f"TaskCountRange{desired}",
            {
                "RuleCondition": Equals(Ref(params.desired_count), str(desired)),
                "Assertions": [
                    {
                        "Assert": _contains([str(n) for n in range(1, desired + 1)], params.min_count),
                        "AssertDescription": f"MinTaskCount must not exceed DesiredTaskCount ({desired}).",
                    },
                    {
                        "Assert": _contains([str(n) for n in range(desired, max_tasks + 1)], params.max_count),
                        "AssertDescription": f"MaxTaskCount must be at least DesiredTaskCount ({desired}).",
                    },
                ],
            },
        )
