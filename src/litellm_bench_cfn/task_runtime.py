"""Run a container of the rendered template on this machine exactly as ECS would start it.

Reads the template text (not the spec), resolves the CloudFormation intrinsics a container
definition uses with the parameters' defaults, and yields the entrypoint + command + environment
ECS would hand the container, with `Secrets` filled from values the caller supplies. The
end-to-end test and `bench local` both use it, so what they run is what the stack ships.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "litellm-bench-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}


LITELLM_IMAGE_ENTRYPOINT = ("docker/prod_entrypoint.sh",)
"""The LiteLLM images' ENTRYPOINT (relative to their WORKDIR /app); `CMD` holds only flags."""


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


@dataclass(frozen=True)
class ContainerLaunch:
    """What ECS hands a container: argv (entrypoint + command) and its environment."""

    argv: tuple[str, ...]
    environment: dict[str, str]
    image: str
    port: int | None


def find_container(template: Mapping[str, Any], task_definition: str, container: str) -> dict[str, Any]:
    resource = template["Resources"].get(task_definition)
    if resource is None or resource["Type"] != "AWS::ECS::TaskDefinition":
        raise TemplateResolutionError(f"{task_definition!r} is not a task definition in the template")
    for definition in resource["Properties"]["ContainerDefinitions"]:
        if definition["Name"] == container:
            return dict(definition)
    raise TemplateResolutionError(f"task definition {task_definition!r} has no container {container!r}")


def container_launch(
    resolver: Resolver,
    task_definition: str,
    container: str,
    secret_values: Mapping[str, str],
    image_entrypoint: Sequence[str] = (),
) -> ContainerLaunch:
    """Resolve one container; `secret_values` maps a secret's logical ID (a `Ref`), or the ARN another
    form resolves to (e.g. an `Fn::ImportValue`), to the value ECS injects. `image_entrypoint` is the
    image's ENTRYPOINT, which ECS runs (with `Command` as its arguments) when the definition sets no
    `EntryPoint`, e.g. LITELLM_IMAGE_ENTRYPOINT."""
    definition = find_container(resolver.template, task_definition, container)
    environment = {e["Name"]: str(resolver.resolve(e["Value"])) for e in definition.get("Environment", [])}
    for secret in definition.get("Secrets", []):
        source = secret["ValueFrom"]
        logical_id = source.get("Ref") if isinstance(source, dict) else None
        if logical_id is None:
            logical_id = str(resolver.resolve(source))
        if not isinstance(logical_id, str) or logical_id not in secret_values:
            raise TemplateResolutionError(f"no test value for secret {secret['Name']} (from {source})")
        environment[secret["Name"]] = secret_values[logical_id]
    entrypoint = resolver.resolve(definition["EntryPoint"]) if "EntryPoint" in definition else image_entrypoint
    argv = [*entrypoint, *resolver.resolve(definition.get("Command", []))]
    ports = definition.get("PortMappings", [])
    return ContainerLaunch(
        argv=tuple(str(a) for a in argv),
        environment=environment,
        image=str(resolver.resolve(definition["Image"])),
        port=int(ports[0]["ContainerPort"]) if ports else None,
    )
