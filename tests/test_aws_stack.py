"""The boto3 side against a moto server: outputs, master key, verify, publish; errors as one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from litellm_bench_cfn.aws.clients import AwsTarget
from litellm_bench_cfn.aws.stack import check_models, master_key
from litellm_bench_cfn.cli import main

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT
from .loopback_http import LoopbackHttpServer, StubHandler
from .moto_server import moto_aws_env, moto_server  # noqa: F401

pytestmark = pytest.mark.e2e
STACK = "boto"


@pytest.fixture(scope="module")
def stack(aws_env: dict[str, str]) -> str:
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=BENCHMARK_TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"])
    return STACK


def test_outputs_lists_every_output(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outputs", "--stack-name", stack]) == 0
    keys = [line.split(":", 1)[0] for line in capsys.readouterr().out.splitlines()]
    assert {"LoadBalancerUrl", "ApiEndpoint", "MasterKeyCommand", "SmokeTestCommand", "LoadTestCommand"} <= set(keys)


def test_outputs_key_prints_one_value(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outputs", "--stack-name", stack, "--key", "ClusterName"]) == 0
    assert capsys.readouterr().out.strip().startswith(f"{stack}-Cluster")


def test_unknown_stack_is_one_line_exit_1(aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outputs", "--stack-name", "nosuchstack"]) == 1
    err = capsys.readouterr().err
    assert err == "error: stack 'nosuchstack' does not exist in this region/account\n"


def test_missing_credentials_is_one_line_exit_2(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["verify", "--stack-name", STACK]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials found") and err.count("\n") == 1


def test_master_key_adds_the_sk_prefix(aws_env: dict[str, str]) -> None:
    secrets = AwsTarget().client("secretsmanager")
    secrets.create_secret(Name="boto/master-key", SecretString="abc123")
    assert master_key(secrets, "boto/master-key") == "sk-abc123"


def test_verify_reports_each_check_and_fails_without_running_tasks(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--stack-name", stack, "--http-timeout", "0.5"])
    out = capsys.readouterr().out
    assert "ok   stack status: CREATE_COMPLETE" in out
    assert "ECS service: 0/4 tasks running" in out  # moto runs no tasks
    assert "FAIL target health: 0/0 targets healthy" in out
    assert "skip proxy /v1/models" in out  # moto models no Secrets Manager in stacks
    assert code == 1


class _Models(StubHandler):
    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == "Bearer sk-good"
        self.send_json(200 if ok else 401, {"data": [{"id": "fake-openai-endpoint"}]} if ok else {"error": "no"})


@pytest.fixture
def models_url() -> Iterator[str]:
    with LoopbackHttpServer(_Models) as server:
        yield server.url


def test_check_models_finds_the_model(models_url: str) -> None:
    check = check_models(models_url, "sk-good", "fake-openai-endpoint")
    assert check.ok is True
    assert "lists fake-openai-endpoint" in check.detail


def test_check_models_fails_on_a_rejected_key(models_url: str) -> None:
    assert check_models(models_url, "sk-bad", "fake-openai-endpoint").ok is False


def test_publish_uploads_every_template_with_links(
    aws_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3").create_bucket(Bucket="pub-bucket")
    code = main(
        ["publish", "--bucket", "pub-bucket", "--prefix", "v1", "--templates-dir", str(REPO_ROOT / "templates")]
    )
    out = capsys.readouterr().out
    assert code == 0
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="pub-bucket")["Contents"]]
    names = sorted(p.name for p in (REPO_ROOT / "templates").glob("*.yaml"))
    assert sorted(keys) == [f"v1/{n}" for n in names]
    assert "template URL: https://pub-bucket.s3.us-east-1.amazonaws.com/v1/cloudformation-ecs.yaml" in out
    assert (
        "launch:       https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/create/review?"
        "templateURL=https%3A%2F%2Fpub-bucket.s3.us-east-1.amazonaws.com%2Fv1%2Fcloudformation-ecs.yaml"
        "&stackName=litellm-bench" in out
    )


def test_publish_to_a_missing_bucket_is_one_line(aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "--bucket", "no-such-bucket", "--templates-dir", str(REPO_ROOT / "templates")]) == 1
    assert capsys.readouterr().err == (
        "error: bucket 'no-such-bucket' does not exist; create it: aws s3 mb s3://no-such-bucket\n"
    )
