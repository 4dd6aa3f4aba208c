"""`AWS::CloudFormation::Interface`: the console's parameter groups and labels (used by the console only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ParameterGroups = Iterable[tuple[str, Iterable[str]]]


def console_interface(groups: ParameterGroups, labels: Mapping[str, str]) -> dict[str, Any]:
    """Template Metadata: the groups in the given order, the labels sorted by parameter name."""
    return {
        "AWS::CloudFormation::Interface": {
            "ParameterGroups": [{"Label": {"default": label}, "Parameters": list(names)} for label, names in groups],
            "ParameterLabels": {name: {"default": text} for name, text in sorted(labels.items())},
        }
    }
