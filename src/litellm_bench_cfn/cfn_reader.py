"""The one reader of our CloudFormation templates: the YAML loader and the intrinsic-function evaluators.

Everything that reads a rendered template back (bench local, compliance, the parameter pre-flight, deploy,
the tests) loads it with `load_cfn_yaml` (long or short form: `!Ref X` reads as `{"Ref": "X"}`) and evaluates
intrinsics here: `Resolver` for what a container or resource resolves to on given parameters and resource
values, `evaluate_rule` for a `Rules` expression, strict the way CloudFormation evaluates Rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


class CfnLoader(yaml.SafeLoader):
    """Also reads short-form intrinsics (`!Ref X`, `!GetAtt A.B`) as their long form."""


def _short_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _short_form)


def load_cfn_yaml(text: str) -> Any:
    """A template's YAML (or JSON) text as plain data; raises yaml.YAMLError for text that is neither."""
    return yaml.load(text, Loader=CfnLoader)


def is_template(document: Any) -> bool:
    return isinstance(document, dict) and ("Resources" in document or "AWSTemplateFormatVersion" in document)


# ---------------------------------------------------------------- resolving a template's values


PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "litellm-bench-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}


class TemplateResolutionError(ValueError):
    pass


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameter values and known resource attributes.

    `refs` maps a resource's logical ID to what `Ref` returns for it; `attributes` maps
    "LogicalId.Attribute" to what `Fn::GetAtt` returns; `imports` maps an export name to what
    `Fn::ImportValue` returns (another stack's output). Anything else is an error, so a test
    can never silently run with a value it did not choose.
    """

    template: Mapping[str, Any]
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    imports: Mapping[str, str] = field(default_factory=dict)

    def parameter(self, name: str) -> str:
        if name in self.parameter_overrides:
            return str(self.parameter_overrides[name])
        params = self.template.get("Parameters", {})
        if name not in params:
            raise TemplateResolutionError(f"unknown parameter {name!r}")
        if "Default" not in params[name]:
            raise TemplateResolutionError(f"parameter {name!r} has no default and no override")
        return str(params[name]["Default"])

    def ref(self, name: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.refs:
            return self.refs[name]
        raise TemplateResolutionError(f"no value supplied for Ref {name!r}")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(x) for x in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self.resolve(v) for k, v in node.items()}
        ((key, arg),) = node.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            name = ".".join(arg) if isinstance(arg, list) else arg
            if name not in self.attributes:
                raise TemplateResolutionError(f"no value supplied for Fn::GetAtt {name!r}")
            return self.attributes[name]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            values = {k: self.resolve(v) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name.startswith("!"):
                    return "${" + name[1:] + "}"
                if name in values:
                    return str(values[name])
                if "." in name:
                    return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
                return str(self.ref(name))

            return re.sub(r"\$\{([^}]+)\}", substitute, text)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(v) for v in self.resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(v) for v in arg)
        if key == "Fn::Or":
            return any(self.resolve(v) for v in arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::FindInMap":
            mapping, top, second = (self.resolve(v) for v in arg)
            return self.template["Mappings"][mapping][top][second]
        if key == "Fn::ImportValue":
            name = str(self.resolve(arg))
            if name not in self.imports:
                raise TemplateResolutionError(f"no value supplied for Fn::ImportValue {name!r}")
            return self.imports[name]
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if key == "Fn::GetAZs":
            return ["us-east-1a", "us-east-1b"]
        return {key: self.resolve(arg)}


# ---------------------------------------------------------------- evaluating Rules


class RuleEvaluationError(ValueError):
    """The template uses an intrinsic this evaluator does not know: never guess a verdict."""


def evaluate_rule(node: Any, values: Mapping[str, str]) -> Any:
    """Value of a Rules expression; parameters are strings, as CloudFormation passes them."""
    if isinstance(node, bool):
        return node
    if isinstance(node, (int, float, str)):
        return str(node)
    if isinstance(node, list):
        return [evaluate_rule(item, values) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise RuleEvaluationError(f"not an intrinsic function: {node!r}")
    ((key, arg),) = node.items()
    if key == "Ref":
        if arg not in values:
            raise RuleEvaluationError(f"Ref to unknown parameter {arg!r}")
        return values[arg]
    if key == "Fn::Equals":
        left, right = (evaluate_rule(v, values) for v in arg)
        return left == right
    if key == "Fn::Not":
        return not _truth(evaluate_rule(arg[0], values))
    if key == "Fn::And":
        return all(_truth(evaluate_rule(v, values)) for v in arg)
    if key == "Fn::Or":
        return any(_truth(evaluate_rule(v, values)) for v in arg)
    if key == "Fn::Contains":
        allowed, value = evaluate_rule(arg[0], values), evaluate_rule(arg[1], values)
        return value in allowed
    raise RuleEvaluationError(f"unsupported intrinsic {key!r} in Rules")


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleEvaluationError(f"expected a condition, got {value!r}")
    return value


def rule_holds(node: Any, values: Mapping[str, str]) -> bool:
    """Whether a Rules condition or assertion holds; anything but a boolean is an error."""
    return _truth(evaluate_rule(node, values))
