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


def ecs_tasks_trust() -> PolicyDocument:
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=Principal("Service", "ecs-tasks.amazonaws.com"), Action=[AssumeRole])
        ],
    )


def execution_role(
    template: Template, title: str, policy_name: str, log_group: logs.LogGroup, secret_arns: Sequence[object]
) -> iam.Role:
    """An ECS task execution role allowed only to write `log_group` and read `secret_arns`.

    The images are public (ghcr.io, Docker Hub, ECR Public), so it needs no ECR access."""
    return template.add_resource(
        iam.Role(
            title,
            AssumeRolePolicyDocument=ecs_tasks_trust(),
            Policies=[
                iam.Policy(
                    PolicyName=policy_name,
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[awacs_logs.CreateLogStream, awacs_logs.PutLogEvents],
                                Resource=[GetAtt(log_group, "Arn")],
                            ),
                            Statement(Effect=Allow, Action=[awacs_secrets.GetSecretValue], Resource=list(secret_arns)),
                        ],
                    ),
                )
            ],
        )
    )


def add_roles(
    template: Template,
    secrets: Secrets,
    log_group: logs.LogGroup,
    extra_secrets: Sequence[secretsmanager.Secret] = (),
) -> Roles:
    injected = (secrets.db_password, secrets.master_key, secrets.salt_key, *extra_secrets)  # Redis's if enabled
    # Exactly the provider-key secrets the models name: each ARN listed, no wildcard.
    arns = [*(Ref(s) for s in injected), *(key.value_from for key in secrets.provider_keys)]
    execution = execution_role(template, "TaskExecutionRole", "litellm-task-execution", log_group, arns)
    # The proxy itself calls no AWS API: its config arrives in the task definition.
    task = template.add_resource(iam.Role("TaskRole", AssumeRolePolicyDocument=ecs_tasks_trust()))
    return Roles(execution=execution, task=task)
