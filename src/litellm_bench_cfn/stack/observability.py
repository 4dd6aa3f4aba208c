"""CloudWatch Logs for the proxy tasks."""

from __future__ import annotations

from troposphere import Sub, Template, logs

from ..spec import ObservabilitySpec
from . import checkov


def add_log_group(template: Template, spec: ObservabilitySpec) -> logs.LogGroup:
    # Deleted with the stack: a benchmark stack is short-lived and its logs are reproducible.
    return template.add_resource(
        logs.LogGroup(
            "ProxyLogGroup",
            LogGroupName=Sub("/ecs/${AWS::StackName}-litellm"),
            RetentionInDays=spec.log_retention_days,
            Metadata=checkov.skip("CKV_AWS_158"),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
