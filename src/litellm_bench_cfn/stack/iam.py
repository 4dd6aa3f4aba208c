"""IAM roles for the proxy tasks, as awacs policy documents scoped to this stack's resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awacs import logs as awacs_logs
from awacs import secretsmanager as awacs_secrets
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import GetAtt, Ref, Template, iam, logs, secretsmanager

from .secrets import Secrets


@dataclass(frozen=True)
class Roles:
    execution: iam.Role
    task: iam.Role


def _ecs_tasks_trust() -> PolicyDocument:
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=Principal("Service", "ecs-tasks.amazonaws.com"), Action=[AssumeRole])
        ],
    )


def add_roles(
    template: Template,
    secrets: Secrets,
    log_group: logs.LogGroup,
    extra_secrets: Sequence[secretsmanager.Secret] = (),
) -> Roles:
    # The image is public (ghcr.io), so the execution role needs no ECR access: only the log
    # stream of this stack's log group and the secrets it injects (three, plus Redis's if enabled).
    execution = template.add_resource(
        iam.Role(
            "TaskExecutionRole",
            AssumeRolePolicyDocument=_ecs_tasks_trust(),
            Policies=[
                iam.Policy(
                    PolicyName="litellm-task-execution",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[awacs_logs.CreateLogStream, awacs_logs.PutLogEvents],
                                Resource=[GetAtt(log_group, "Arn")],
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[awacs_secrets.GetSecretValue],
                                Resource=[
                                    Ref(s)
                                    for s in (secrets.db_password, secrets.master_key, secrets.salt_key, *extra_secrets)
                                ],
                            ),
                        ],
                    ),
                )
            ],
        )
    )
    # The proxy itself calls no AWS API: its config arrives in the task definition.
    task = template.add_resource(iam.Role("TaskRole", AssumeRolePolicyDocument=_ecs_tasks_trust()))
    return Roles(execution=execution, task=task)
