"""Secrets Manager secrets generated inside the stack: nobody types a password or a key."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Select, Split, Sub, Template, secretsmanager

from . import checkov

RDS_FORBIDDEN_PASSWORD_CHARACTERS = '/@" \\'
"""RDS refuses these in a master password; every other printable character stays possible, which
is why the proxy receives the password on its own (DATABASE_PASSWORD) and not inside a URL."""


@dataclass(frozen=True)
class Secrets:
    db_password: secretsmanager.Secret
    master_key: secretsmanager.Secret
    salt_key: secretsmanager.Secret


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


def add_secrets(template: Template, keep_salt_key: bool) -> Secrets:
    """The DB password and the master key guard only this stack's resources and go with it (a restored
    snapshot gets a new password). The salt key is kept when the DB's data is (`keep_salt_key`): the
    snapshot holds credentials encrypted with it, which no other key can ever read again."""
    return Secrets(
        db_password=_secret(
            template,
            "DatabasePasswordSecret",
            _stack_scoped("db-password"),
            "Master password of the LiteLLM PostgreSQL database (generated).",
            PasswordLength=40,
            ExcludeCharacters=RDS_FORBIDDEN_PASSWORD_CHARACTERS,
        ),
        master_key=_secret(
            template,
            "MasterKeySecret",
            _stack_scoped("master-key"),
            "LiteLLM master key without its sk- prefix: the key is sk-<this value> (generated).",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
        salt_key=_secret(
            template,
            "SaltKeySecret",
            _stack_instance_scoped("salt-key") if keep_salt_key else _stack_scoped("salt-key"),
            "LITELLM_SALT_KEY: encrypts credentials stored in the DB; never change it after launch.",
            "Retain" if keep_salt_key else "Delete",
            PasswordLength=48,
            ExcludePunctuation=True,
        ),
    )
