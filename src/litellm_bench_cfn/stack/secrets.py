"""Secrets Manager secrets generated inside the stack: nobody types a password or a key."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Sub, Template, secretsmanager

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


def _secret(template: Template, title: str, name: str, description: str, **generate: object) -> secretsmanager.Secret:
    return template.add_resource(
        secretsmanager.Secret(
            title,
            Name=Sub(f"${{AWS::StackName}}/{name}"),
            Description=description,
            GenerateSecretString=secretsmanager.GenerateSecretString(**generate),
            Metadata=checkov.skip("CKV_AWS_149"),
            # Delete: generated values that guard only this stack's resources, which go with it
            # (the DB's final snapshot keeps its data; its password can be reset on restore).
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )


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
            f"provider-key/{secret.env}",
            f"Provider key the proxy reads as {secret.env}: put the real key in after the stack is created "
            "(aws secretsmanager put-secret-value), then force a new deployment of the service.",
            PasswordLength=32,
            ExcludePunctuation=True,
        )
        keys.append(ProviderKey(secret.env, Ref(created)))
    return tuple(keys)


def add_secrets(template: Template, spec: BenchmarkSpec) -> Secrets:
    return Secrets(
        provider_keys=add_provider_keys(template, spec),
        db_password=_secret(
            template,
            "DatabasePasswordSecret",
            "db-password",
            "Master password of the LiteLLM PostgreSQL database (generated).",
            PasswordLength=40,
            ExcludeCharacters=RDS_FORBIDDEN_PASSWORD_CHARACTERS,
        ),
        master_key=_secret(
            template,
            "MasterKeySecret",
            "master-key",
            "LiteLLM master key without its sk- prefix: the key is sk-<this value> (generated).",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
        salt_key=_secret(
            template,
            "SaltKeySecret",
            "salt-key",
            "LITELLM_SALT_KEY: encrypts credentials stored in the DB; never change it after launch.",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
    )
