"""Provider keys (issue #14): a real key lives in Secrets Manager, ECS injects it, the execution role
may read exactly those secrets, and a literal key or an unset `os.environ/` name is refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.spec import BenchmarkSpec, spec_to_json

from .conftest import REPO_ROOT, render_dict

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/openai-AbC123"
OPENAI = {"model": "openai/gpt-4o-mini", "api_base": "https://api.openai.com/v1"}


def spec_with(*models: dict[str, Any]) -> dict[str, Any]:
    return {"litellm": {"models": [{"model_name": f"m{i}", "litellm_params": p} for i, p in enumerate(models)]}}


def refusals(data: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        return [tuple(v) for e in exc.errors() if e["type"] == "spec_rules" for v in e["ctx"]["violations"]]
    return []


def proxy(template: dict[str, Any]) -> dict[str, Any]:
    (container,) = [
        c for c in template["Resources"]["ProxyTaskDefinition"]["Properties"]["ContainerDefinitions"]
        if c["Name"] == "litellm"
    ]  # fmt: skip
    return container  # type: ignore[no-any-return]


def readable_secrets(template: dict[str, Any]) -> list[Any]:
    policy = template["Resources"]["TaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    (statement,) = [s for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    return statement["Resource"]  # type: ignore[no-any-return]


def config(template: dict[str, Any]) -> dict[str, Any]:
    (value,) = [e["Value"] for e in proxy(template)["Environment"] if e["Name"] == "LITELLM_CONFIG_YAML"]
    return yaml.safe_load(value)  # type: ignore[no-any-return]


def test_a_key_the_stack_creates_is_injected_and_readable_by_the_execution_role_only() -> None:
    spec = BenchmarkSpec.model_validate(spec_with({**OPENAI, "api_key_secret": {"env": "OPENAI_API_KEY"}}))
    template = render_dict(spec)
    secret = template["Resources"]["ProviderKeyOpenaiApiKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}/provider-key/OPENAI_API_KEY"}
    assert "SecretString" not in secret["Properties"]  # a generated placeholder, nothing literal
    injected = {"Name": "OPENAI_API_KEY", "ValueFrom": {"Ref": "ProviderKeyOpenaiApiKeySecret"}}
    assert injected in proxy(template)["Secrets"]
    assert {"Ref": "ProviderKeyOpenaiApiKeySecret"} in readable_secrets(template)
    assert config(template)["model_list"][0]["litellm_params"]["api_key"] == "os.environ/OPENAI_API_KEY"
    assert "TaskRole" in template["Resources"] and "Policies" not in template["Resources"]["TaskRole"]["Properties"]


def test_an_existing_secret_is_referenced_by_its_arn_and_nothing_is_created() -> None:
    spec = BenchmarkSpec.model_validate(spec_with({**OPENAI, "api_key_secret": {"env": "OPENAI_API_KEY", "arn": ARN}}))
    template = render_dict(spec)
    assert not [k for k in template["Resources"] if k.startswith("ProviderKey")]
    assert {"Name": "OPENAI_API_KEY", "ValueFrom": ARN} in proxy(template)["Secrets"]
    readable = readable_secrets(template)
    assert ARN in readable and not any("*" in json.dumps(r) for r in readable)
    assert len(readable) == 4  # DB password, master key, salt key, this one


def test_models_sharing_one_key_share_one_secret() -> None:
    shared = {"env": "OPENAI_API_KEY"}
    spec = BenchmarkSpec.model_validate(
        spec_with({**OPENAI, "api_key_secret": shared}, {**OPENAI, "model": "openai/gpt-4o", "api_key_secret": shared},
                  {**OPENAI, "model": "openai/o3", "api_key": "os.environ/OPENAI_API_KEY"})
    )  # fmt: skip
    template = render_dict(spec)
    assert [s["Name"] for s in proxy(template)["Secrets"]].count("OPENAI_API_KEY") == 1
    assert [k for k in template["Resources"] if k.startswith("ProviderKey")] == ["ProviderKeyOpenaiApiKeySecret"]


@pytest.mark.parametrize(
    "key", ["sk-proj-0123456789abcdef", "sk-ant-api03-xyz", "AKIAIOSFODNN7EXAMPLE", "gsk_abc", "a" * 40]
)
def test_a_literal_real_looking_key_is_refused_with_the_fix(key: str) -> None:
    ((field, message),) = refusals(spec_with({**OPENAI, "api_key": key}))
    assert field == "litellm.models.0.litellm_params.api_key"
    assert "plain text into the task definition" in message and "api_key_secret: {env: NAME}" in message
    assert key not in message


@pytest.mark.parametrize("key", ["test", "fake", "none", "placeholder"])
def test_placeholder_keys_of_fake_or_local_endpoints_stay_allowed(key: str) -> None:
    assert refusals(spec_with({"model": "openai/any", "api_key": key})) == []


def test_an_environment_reference_the_task_does_not_set_is_refused() -> None:
    ((field, message),) = refusals(spec_with({**OPENAI, "api_key": "os.environ/OPENAI_API_KEY"}))
    assert field == "litellm.models.0.litellm_params.api_key"
    assert "does not set" in message and "api_key_secret: {env: OPENAI_API_KEY}" in message
    ((field, _),) = refusals(spec_with({"model": "openai/any", "api_base": "os.environ/UPSTREAM"}))
    assert field == "litellm.models.0.litellm_params.api_base"


@pytest.mark.parametrize(
    "secret, field",
    [
        ({"env": "DATABASE_PASSWORD"}, "env"),
        ({"env": "LITELLM_MASTER_KEY"}, "env"),
        ({"env": "PORT"}, "env"),
        ({"env": "OPENAI_API_KEY", "arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:openai"}, "arn"),
        ({"env": "OPENAI_API_KEY", "arn": "arn:aws:secretsmanager:*:123456789012:secret:*"}, "arn"),
    ],
)
def test_a_secret_must_not_replace_a_task_variable_and_an_arn_must_be_complete(
    secret: dict[str, str], field: str
) -> None:
    assert [f for f, _ in refusals(spec_with({**OPENAI, "api_key_secret": secret}))] == [
        f"litellm.models.0.litellm_params.api_key_secret.{field}"
    ]


def test_one_variable_holds_one_secret() -> None:
    fields = [f for f, _ in refusals(spec_with(
        {**OPENAI, "api_key_secret": {"env": "OPENAI_API_KEY"}},
        {**OPENAI, "api_key_secret": {"env": "OPENAI_API_KEY", "arn": ARN}},
    ))]  # fmt: skip
    assert fields == ["litellm.models.1.litellm_params.api_key_secret.arn"]


def test_an_explicit_other_key_beside_a_secret_is_refused() -> None:
    fields = [f for f, _ in refusals(spec_with({**OPENAI, "api_key": "other", "api_key_secret": {"env": "K"}}))]
    assert fields == ["litellm.models.0.litellm_params.api_key"]


def test_validate_show_output_reads_back() -> None:
    spec = BenchmarkSpec.model_validate(spec_with({**OPENAI, "api_key_secret": {"env": "OPENAI_API_KEY"}}))
    assert BenchmarkSpec.model_validate(json.loads(spec_to_json(spec))) == spec


def test_the_provider_example_profile_serves_openai_beside_the_fake_endpoint() -> None:
    (profile,) = [p for p in load_profiles(REPO_ROOT / "profiles") if p.spec.name == "provider-example"]
    template = yaml.safe_load((REPO_ROOT / "templates" / profile.template_name).read_text())
    models = {m["model_name"]: m["litellm_params"] for m in config(template)["model_list"]}
    assert models["fake-openai-endpoint"]["api_base"] == "os.environ/BENCHMARK_API_BASE"
    assert models["gpt-4o-mini"] == {
        "model": "openai/gpt-4o-mini",
        "api_key": "os.environ/OPENAI_API_KEY",
        "api_base": "https://api.openai.com/v1",
    }
    assert not re.search(r"\bsk-[A-Za-z0-9]{8,}", (REPO_ROOT / "templates" / profile.template_name).read_text())
