"""Run a container of the rendered template on this machine exactly as ECS would start it.

Reads the template text (not the spec), resolves the CloudFormation intrinsics a container
definition uses with the parameters' defaults, and yields the entrypoint + command + environment
ECS would hand the container, with `Secrets` filled from values the caller supplies. The
end-to-end test and `bench local` both use it, so what they run is what the stack ships.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cfn_reader import PSEUDO_PARAMETERS, Resolver, TemplateResolutionError

__all__ = [
    "LITELLM_IMAGE_ENTRYPOINT",
    "PSEUDO_PARAMETERS",
    "ContainerLaunch",
    "Resolver",
    "TemplateResolutionError",
    "container_launch",
    "find_container",
]

LITELLM_IMAGE_ENTRYPOINT = ("docker/prod_entrypoint.sh",)
"""The LiteLLM images' ENTRYPOINT (relative to their WORKDIR /app); `CMD` holds only flags."""


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
