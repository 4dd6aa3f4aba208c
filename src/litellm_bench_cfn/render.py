"""Template -> YAML text, byte-stable: fixed section order, sorted keys, long-form intrinsics.

Long-form (`Fn::GetAtt`, `Ref` maps) because YAML tools that do not know CloudFormation's short
tags (`!Ref`) must read the file too, moto's loader among them. Multi-line strings (the LiteLLM
config, the start script) are block literals so a reviewer reads them as they run; lists of plain
values are flow sequences (`[a, b]`), which keeps enumerations such as `Rules` compact.
"""

from __future__ import annotations

from typing import Any

import yaml
from troposphere import Template

SECTION_ORDER = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
)
TEMPLATE_BODY_LIMIT = 51_200
"""Bytes `aws cloudformation create-stack --template-body` accepts; larger ones go through S3."""
TEMPLATE_URL_LIMIT = 1_000_000
"""Bytes CloudFormation accepts from S3 (`--template-url`)."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    scalars = all(isinstance(v, str | int | float | bool) and "\n" not in str(v) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=bool(value) and scalars)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def template_to_dict(template: Template) -> dict[str, Any]:
    raw = template.to_dict()
    unknown = set(raw) - set(SECTION_ORDER)
    if unknown:
        raise ValueError(f"template has sections the renderer does not order: {sorted(unknown)}")
    return {section: _sorted(raw[section]) for section in SECTION_ORDER if section in raw}


def to_yaml(template: Template) -> str:
    document = template_to_dict(template)
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=False
    )
