"""Secrets Manager secrets generated inside the stack: nobody types a password or a key."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Sub, Template, secretsmanager

from . import checkov

RDS_FORBIDDEN_PASSWORD_CHARACTERS = '/@" \\'
"""RDS refuses these in a master password; every other printable character stays possible, which
is why the proxy receives the password on its own (DATABASE_PASSWORD) and not inside a URL."""


@dataclass(frozen=True)
class Secrets:
    db_password: secretsmanager.Secret
    master_key: secretsmanager.Secret
    salt_key: secretsmanager.Secret


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


def add_secrets(template: Template) -> Secrets:
    return Secrets(
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
