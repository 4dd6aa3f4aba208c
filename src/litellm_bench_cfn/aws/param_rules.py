"""Pre-flight of stack parameters: what CloudFormation would reject, checked locally.

Reads the rendered template (not the spec) so it checks what ships: each parameter's own
constraints (AllowedValues, MinValue/MaxValue, AllowedPattern, MinLength/MaxLength) and the
template's `Rules`, whose intrinsics (Ref, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Contains)
cfn_reader evaluates. `scripts/deploy.sh` (aws/deploy.py) runs it before any AWS call, and
`litellm-bench-cfn check-params` on its own; tests use it to prove the Rules agree with the spec's verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..cfn_reader import RuleEvaluationError, rule_holds

__all__ = ["RuleEvaluationError", "check_parameters", "parse_assignments"]


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """`["Key=Value", ...]` -> dict; raises ValueError naming the first malformed item."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{item!r}: write parameters as Key=Value")
        values[key] = value
    return values


def effective_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Defaults overlaid with overrides, and the problems found doing so (unknown key, no value)."""
    params: Mapping[str, Any] = template.get("Parameters", {})
    problems = [
        f"{key}: not a parameter of this template; choose one of {', '.join(sorted(params))}"
        for key in sorted(overrides)
        if key not in params
    ]
    values: dict[str, str] = {}
    for name, spec in params.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            problems.append(f"{name}: has no default; pass {name}=VALUE")
    return values, problems


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parameter_problems(template: Mapping[str, Any], values: Mapping[str, str]) -> list[str]:
    """Each parameter value against its own constraints, one line per problem."""
    problems: list[str] = []
    for name, spec in sorted(template.get("Parameters", {}).items()):
        if name not in values:
            continue
        value = values[name]
        if spec.get("Type") == "Number":
            number = _number(value)
            if number is None:
                problems.append(f"{name}: {value!r} is not a number")
                continue
            low, high = spec.get("MinValue"), spec.get("MaxValue")
            if (low is not None and number < float(low)) or (high is not None and number > float(high)):
                problems.append(f"{name}: {value} is outside {low}-{high}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(a) for a in allowed]:
            problems.append(f"{name}: {value!r} is not allowed; choose one of {', '.join(str(a) for a in allowed)}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            hint = spec.get("ConstraintDescription", f"must match {pattern}")
            problems.append(f"{name}: {value!r} is not valid: {hint}")
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            problems.append(f"{name}: shorter than {spec['MinLength']} characters")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            problems.append(f"{name}: longer than {spec['MaxLength']} characters")
    return problems


def rule_problems(template: Mapping[str, Any], values: Mapping[str, str]) -> list[str]:
    """The `AssertDescription` of every failing assertion, as `RuleName: description`."""
    problems: list[str] = []
    for name, rule in sorted(template.get("Rules", {}).items()):
        condition = rule.get("RuleCondition")
        if condition is not None and not rule_holds(condition, values):
            continue
        for assertion in rule.get("Assertions", []):
            if not rule_holds(assertion["Assert"], values):
                problems.append(f"{name}: {assertion.get('AssertDescription', 'assertion failed')}")
    return problems


def check_parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> list[str]:
    """Everything CloudFormation would reject about these overrides, before any API call."""
    values, problems = effective_values(template, overrides)
    if problems:
        return problems
    problems = parameter_problems(template, values)
    # Rules only run on values that pass their own constraints, as in CloudFormation.
    return problems or rule_problems(template, values)
