"""Secrets Manager secrets generated inside the stack: nobody types a password or a key."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Select, Split, Sub, Template, secretsmanager

from ..names import DATABASE_PASSWORD_SECRET, MASTER_KEY_SECRET, SALT_KEY_SECRET
from ..spec import BenchmarkSpec, provider_key_logical_id
from . import checkov

RDS_FORBIDDEN_PASSWORD_CHARACTERS = '/@" \\'
"""RDS refuses these in a master password; every other printable character stays possible, which
is why the proxy receives the password on its own (DATABASE_PASSWORD) and not inside a URL."""


@dataclass(frozen=True)
class ProviderKey:
    """A provider key ECS injects into the proxy as `env`: a secret this stack created, or an existing ARN."""

    env: str
    value_from: object


@dataclass(frozen=True)
class Secrets:
    db_password: secretsmanager.Secret
    master_key: secretsmanager.Secret
    salt_key: secretsmanager.Secret
    provider_keys: tuple[ProviderKey, ...] = ()


def _secret(
    template: Template, title: str, name: object, description: str, policy: str = "Delete", **generate: object
) -> secretsmanager.Secret:
    return template.add_resource(
        secretsmanager.Secret(
            title,
            Name=name,
            Description=description,
            GenerateSecretString=secretsmanager.GenerateSecretString(**generate),
            Metadata=checkov.skip("CKV_AWS_149"),
            DeletionPolicy=policy,
            UpdateReplacePolicy=policy,
        )
    )


def _stack_scoped(name: str) -> Sub:
    return Sub(f"${{AWS::StackName}}/{name}")


def _stack_instance_scoped(name: str) -> Sub:
    """`<stack>/<name>-<the stack's UUID>`: a kept secret must not collide with the same secret of a
    later stack of the same name (Secrets Manager refuses a second secret of one name)."""
    return Sub(f"${{AWS::StackName}}/{name}-${{Id}}", Id=Select(2, Split("/", Ref("AWS::StackId"))))


def add_provider_keys(template: Template, spec: BenchmarkSpec) -> tuple[ProviderKey, ...]:
    """One secret per provider key the spec asks the stack to create; existing ARNs pass through.

    A created secret starts with a random placeholder (so nothing literal is in the template); the
    user puts the real key in after the stack is created and forces a new deployment (README)."""
    keys = []
    for secret in spec.provider_key_secrets:
        if secret.arn:
            keys.append(ProviderKey(secret.env, secret.arn))
            continue
        created = _secret(
            template,
            f"{provider_key_logical_id(secret.env)}Secret",
            _stack_scoped(f"provider-key/{secret.env}"),
            f"Provider key the proxy reads as {secret.env}: put the real key in after the stack is created "
            "(aws secretsmanager put-secret-value), then force a new deployment of the service.",
            PasswordLength=32,
            ExcludePunctuation=True,
        )
        keys.append(ProviderKey(secret.env, Ref(created)))
    return tuple(keys)


def add_secrets(template: Template, spec: BenchmarkSpec, keep_salt_key: bool) -> Secrets:
    """The DB password and the master key guard only this stack's resources and go with it (a restored
    snapshot gets a new password). The salt key is kept when the DB's data is (`keep_salt_key`): the
    snapshot holds credentials encrypted with it, which no other key can ever read again."""
    return Secrets(
        provider_keys=add_provider_keys(template, spec),
        db_password=_secret(
            template,
            DATABASE_PASSWORD_SECRET,
            _stack_scoped("db-password"),
            "Master password of the LiteLLM PostgreSQL database (generated).",
            PasswordLength=40,
            ExcludeCharacters=RDS_FORBIDDEN_PASSWORD_CHARACTERS,
        ),
        master_key=_secret(
            template,
            MASTER_KEY_SECRET,
            _stack_scoped("master-key"),
            "LiteLLM master key without its sk- prefix: the key is sk-<this value> (generated).",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
        salt_key=_secret(
            template,
            SALT_KEY_SECRET,
            _stack_instance_scoped("salt-key") if keep_salt_key else _stack_scoped("salt-key"),
            "LITELLM_SALT_KEY: encrypts credentials stored in the DB; never change it after launch.",
            "Retain" if keep_salt_key else "Delete",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
    )
