"""Names the rendered templates share with the code that reads them back (bench, aws/, compliance).

Logical IDs, output and export keys, container names and environment variables are public API of the
templates: each is spelled once here and imported wherever it is built or read.
"""

from __future__ import annotations

# ---------------------------------------------------------------- template Metadata

TOOL_METADATA = "LitellmBenchCfn"
"""Template Metadata key of what this tool records for its readers (e.g. the load shape compliance checks)."""
LOAD_TEST_METADATA = "load_test"

# ---------------------------------------------------------------- logical IDs read back by bench, aws/ and compliance

PROXY_TASK_DEFINITION = "ProxyTaskDefinition"
PROXY_SERVICE = "ProxyService"
MASTER_KEY_SECRET = "MasterKeySecret"
SALT_KEY_SECRET = "SaltKeySecret"
DATABASE_PASSWORD_SECRET = "DatabasePasswordSecret"
REDIS_AUTH_TOKEN_SECRET = "RedisAuthTokenSecret"
REDIS_REPLICATION_GROUP = "RedisReplicationGroup"
IN_VPC_FAKE_ENDPOINT = "InVpcFakeEndpoint"
"""Parameter of a harness-enabled proxy template: true sends model calls to the harness stack's fake endpoint."""

# ---------------------------------------------------------------- outputs

LOAD_BALANCER_URL_OUTPUT = "LoadBalancerUrl"
MASTER_KEY_SECRET_ARN_OUTPUT = "MasterKeySecretArn"
LOAD_TEST_COMMAND_OUTPUT = "LoadTestCommand"

# ---------------------------------------------------------------- containers of the proxy task

PROXY_CONTAINER = "litellm"
MIGRATIONS_CONTAINER = "migrations"
DATABASE_TLS_CONTAINER = "rds-ca-bundle"

# ---------------------------------------------------------------- environment of the proxy containers

DATABASE_PASSWORD_ENV = "DATABASE_PASSWORD"
DATABASE_HOST_ENV = "DATABASE_HOST"
"""host:port; LiteLLM builds DATABASE_URL from these parts and URL-encodes the password."""
DATABASE_NAME_ENV = "DATABASE_NAME"
DATABASE_USERNAME_ENV = "DATABASE_USERNAME"
DATABASE_URL_ENV = "DATABASE_URL"
DATABASE_SSLMODE_ENV = "DATABASE_SSLMODE"
DATABASE_SSLROOTCERT_ENV = "DATABASE_SSLROOTCERT"
DATABASE_ENV = (
    DATABASE_HOST_ENV,
    DATABASE_USERNAME_ENV,
    DATABASE_PASSWORD_ENV,
    DATABASE_NAME_ENV,
    DATABASE_URL_ENV,
    DATABASE_SSLMODE_ENV,
    DATABASE_SSLROOTCERT_ENV,
)
"""Every variable that points LiteLLM at its database (`bench local` runs without one: it drops them)."""
MASTER_KEY_SECRET_ENV = "LITELLM_MASTER_KEY_SECRET"
"""The master-key secret as ECS injects it; the start scripts export MASTER_KEY_ENV = "sk-" + it."""
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
API_KEY_ENV = "LITELLM_API_KEY"
"""A virtual key the Locust processes send instead of the master key (`bench aws --api-key`)."""

# ---------------------------------------------------------------- exit codes of the start scripts

CONFIG_INVALID_EXIT_CODE = 78  # EX_CONFIG from sysexits.h
