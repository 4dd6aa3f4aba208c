"""scripts/deploy.sh (a wrapper of `litellm-bench-cfn deploy`, boto3) against a moto server.

The tool reaches moto through AWS_ENDPOINT_URL, as any boto3 program does; the tests check the
result with the real AWS CLI. moto creates the full rendered template, but its change-set updates
and deletes break on the template's RDS/VPC resources, its stacks made from change sets carry no
Outputs, and it never fails a stack. So: creation uses the real template; update / no-op / dry-run /
delete use a slim template with the real Parameters, Rules and Metadata and two resources moto
handles; outputs are read from a stack moto made with create-stack; the failure report runs against
botocore's Stubber (tests/test_aws_deploy.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.aws import deploy as ops
from litellm_bench_cfn.cli import deploy as cli_deploy

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT
from .loopback_http import LoopbackHttpServer, StubHandler
from .moto_server import MotoServer, moto_server  # noqa: F401

DEPLOY = REPO_ROOT / "scripts" / "deploy.sh"
FAST = {"POLL_SECONDS": "1", "AWS_CALL_TIMEOUT": "60"}

pytestmark = pytest.mark.e2e


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(DEPLOY), *args], env={**env, **FAST}, input=stdin, capture_output=True, text=True, timeout=120
    )


def aws(env: dict[str, str], *args: str) -> Any:
    result = subprocess.run(["aws", *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def stack_parameter(env: dict[str, str], stack: str, key: str) -> str:
    params = aws(env, "cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"][0]["Parameters"]
    return str({p["ParameterKey"]: p["ParameterValue"] for p in params}[key])


def stack_exists(env: dict[str, str], stack: str) -> bool:
    result = subprocess.run(
        ["aws", "cloudformation", "describe-stacks", "--stack-name", stack],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode == 0


def slim_template(path: Path, padding: int = 0) -> Path:
    real = yaml.safe_load(BENCHMARK_TEMPLATE.read_text())
    slim = {k: real[k] for k in ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules")}
    if padding:
        slim["Metadata"] = {**slim["Metadata"], "Padding": "x" * padding}
    slim["Resources"] = {
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "Sizing": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": {"Fn::Sub": "/${AWS::StackName}/sizing"},
                "Type": "String",
                "Value": {"Fn::Sub": "${DesiredTaskCount} x ${TaskCpu}/${TaskMemory}"},
            },
        },
    }
    path.write_text(yaml.safe_dump(slim, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def env(moto_server: MotoServer) -> dict[str, str]:  # noqa: F811
    return moto_server.env()


@pytest.fixture(scope="module")
def slim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return slim_template(tmp_path_factory.mktemp("tpl") / "slim.yaml")


def create_stack(env: dict[str, str], name: str, template: Path) -> str:
    """A stack made directly (fast); deploy.sh's own create path is tested on the real template."""
    aws(
        env,
        "cloudformation",
        "create-stack",
        "--stack-name",
        name,
        "--template-body",
        f"file://{template}",
        "--capabilities",
        "CAPABILITY_IAM",
    )
    return name


@pytest.fixture(scope="module")
def slim_stack(env: dict[str, str], slim: Path) -> str:
    return create_stack(env, "slim", slim)


def test_help_documents_every_command_and_option() -> None:
    result = subprocess.run(["bash", str(DEPLOY), "--help"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0
    for word in (
        "deploy",
        "status",
        "outputs",
        "smoke",
        "delete",
        "--stack-name",
        "--region",
        "--profile",
        "--template",
        "--param",
        "--s3-bucket",
        "--dry-run",
        "--show-key",
        "--yes",
        "--timeout",
    ):
        assert word in result.stdout, word


def test_unknown_option_is_bad_input() -> None:
    result = subprocess.run(["bash", str(DEPLOY), "deploy", "--colour"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "unknown option --colour" in result.stderr


def test_wrapper_refuses_before_bootstrap(tmp_path: Path) -> None:
    """A checkout without .venv: one line naming the fix, exit 2 (the old script's missing-AWS-CLI case)."""
    (tmp_path / "scripts").mkdir()
    copy = tmp_path / "scripts" / "deploy.sh"
    copy.write_text(DEPLOY.read_text())
    result = subprocess.run(["bash", str(copy), "status"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert (
        result.stderr
        == f"error: {tmp_path}/.venv/bin/litellm-bench-cfn is not installed; run scripts/bootstrap.sh first\n"
    )


def test_needs_no_aws_cli(env: dict[str, str], slim: Path) -> None:
    """The calls are boto3's: with no `aws` anywhere (the old script's AWS_CLI escape hatch pointing
    nowhere, and none on PATH) every command still works."""
    create_stack(env, "nocli", slim)
    no_cli = {**env, "PATH": "/usr/bin:/bin", "AWS_CLI": "/nonexistent/aws"}
    assert subprocess.run(["bash", "-c", "command -v aws"], env=no_cli, capture_output=True).returncode != 0
    result = run(no_cli, "status", "--stack-name", "nocli")
    assert result.returncode == 0, result.stderr
    assert "stack nocli: CREATE_COMPLETE" in result.stdout


def test_refuses_without_credentials(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}
    result = run(bare, "deploy", "--stack-name", "nocreds")
    assert result.returncode == 2
    assert "no usable AWS credentials" in result.stderr
    assert "Unable to locate credentials" in result.stderr


def test_deploy_creates_the_real_template_and_status_reports_it(env: dict[str, str]) -> None:
    result = run(env, "deploy", "--stack-name", "real")
    assert result.returncode == 0, result.stderr
    assert "Add     ProxyService" in result.stdout
    assert "CREATE_COMPLETE" in result.stdout
    status = run(env, "status", "--stack-name", "real")
    assert status.returncode == 0, status.stderr
    assert "stack real: CREATE_COMPLETE" in status.stdout


def test_outputs_prints_the_stack_outputs(env: dict[str, str]) -> None:
    # moto only models Outputs on stacks made by create-stack.
    aws(
        env,
        "cloudformation",
        "create-stack",
        "--stack-name",
        "withoutputs",
        "--capabilities",
        "CAPABILITY_IAM",
        "--template-body",
        f"file://{BENCHMARK_TEMPLATE}",
    )
    result = run(env, "outputs", "--stack-name", "withoutputs")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["LoadBalancerUrl"].startswith("http://withoutputs-")
    assert lines["LoadBalancerUrl"].endswith(".elb.amazonaws.com")
    assert "aws secretsmanager get-secret-value" in lines["MasterKeyCommand"]


def test_update_changes_a_parameter(env: dict[str, str], slim: Path, slim_stack: str) -> None:
    result = run(env, "deploy", "--stack-name", slim_stack, "--template", str(slim), "--param", "DesiredTaskCount=3")
    assert result.returncode == 0, result.stderr
    assert "UPDATE_COMPLETE" in result.stdout
    assert stack_parameter(env, slim_stack, "DesiredTaskCount") == "3"
    assert stack_parameter(env, slim_stack, "TaskCpu") == "4096"  # kept its previous value


def test_redeploy_without_change_succeeds_and_says_so(env: dict[str, str], slim: Path, slim_stack: str) -> None:
    current = stack_parameter(env, slim_stack, "DesiredTaskCount")
    result = run(
        env, "deploy", "--stack-name", slim_stack, "--template", str(slim), "--param", f"DesiredTaskCount={current}"
    )
    assert result.returncode == 0, result.stderr
    assert "No changes to deploy" in result.stdout


def test_bad_parameter_is_refused_before_aws(env: dict[str, str], slim: Path, slim_stack: str) -> None:
    result = run(env, "deploy", "--stack-name", slim_stack, "--template", str(slim), "--param", "TaskCpu=1000")
    assert result.returncode == 2
    assert "TaskCpu: '1000' is not allowed" in result.stderr
    assert "nothing was sent to AWS" in result.stderr
    assert stack_parameter(env, slim_stack, "TaskCpu") == "4096"


def test_parameter_combination_rejected_by_rules(env: dict[str, str], slim: Path, slim_stack: str) -> None:
    result = run(env, "deploy", "--stack-name", slim_stack, "--template", str(slim), "--param", "TaskMemory=4096")
    assert result.returncode == 2
    assert "FargateTaskSize: TaskMemory must be a size Fargate offers" in result.stderr


def test_dry_run_shows_the_change_set_and_executes_nothing(env: dict[str, str], slim: Path, slim_stack: str) -> None:
    before = stack_parameter(env, slim_stack, "DesiredTaskCount")
    result = run(
        env, "deploy", "--stack-name", slim_stack, "--template", str(slim), "--param", "DesiredTaskCount=2", "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    assert "change set deploy-" in result.stdout
    assert "DesiredTaskCount=2" in result.stdout
    assert "not executed" in result.stdout
    assert stack_parameter(env, slim_stack, "DesiredTaskCount") == before
    shown = next(line.split()[2].rstrip(":") for line in result.stdout.splitlines() if line.startswith("change set"))
    listed = aws(env, "cloudformation", "list-change-sets", "--stack-name", slim_stack)["Summaries"]
    assert shown not in [c["ChangeSetName"] for c in listed]


def test_dry_run_of_a_new_stack_leaves_no_stack(env: dict[str, str], slim: Path) -> None:
    result = run(env, "deploy", "--stack-name", "dryrunnew", "--template", str(slim), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Add     Cluster" in result.stdout
    assert not stack_exists(env, "dryrunnew")


def test_large_template_goes_through_s3(env: dict[str, str], tmp_path: Path) -> None:
    big = slim_template(tmp_path / "big.yaml", padding=52_000)
    assert big.stat().st_size > 51_200
    # A dry run is enough: the change set can only list the resources if CloudFormation read the S3 copy.
    result = run(env, "deploy", "--stack-name", "big", "--template", str(big), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "uploaded to s3://litellm-bench-cfn-123456789012-us-east-1/big/big-" in result.stdout
    assert "Add     Sizing" in result.stdout
    objects = aws(env, "s3api", "list-objects-v2", "--bucket", "litellm-bench-cfn-123456789012-us-east-1")
    assert [o["Key"] for o in objects["Contents"] if o["Key"].startswith("big/big-")]


def test_large_template_deploys_through_a_given_bucket_in_another_region(env: dict[str, str], tmp_path: Path) -> None:
    big = slim_template(tmp_path / "big.yaml", padding=52_000)
    where = ("--stack-name", "bigeu", "--template", str(big), "--region", "eu-west-1", "--s3-bucket", "tpl-eu")
    created = run(env, "deploy", *where)
    assert created.returncode == 0, created.stderr
    assert "creating bucket s3://tpl-eu for it" in created.stdout
    assert "uploaded to s3://tpl-eu/bigeu/big-" in created.stdout
    assert "stack bigeu: CREATE_COMPLETE" in created.stdout
    assert aws(env, "s3api", "get-bucket-location", "--bucket", "tpl-eu")["LocationConstraint"] == "eu-west-1"
    deployed = aws(env, "cloudformation", "get-template", "--stack-name", "bigeu", "--region", "eu-west-1")
    assert deployed["TemplateBody"].rstrip("\n") == big.read_text().rstrip("\n")
    updated = run(env, "deploy", *where, "--param", "DesiredTaskCount=3")
    assert updated.returncode == 0, updated.stderr
    assert "creating bucket" not in updated.stdout  # reused
    assert "stack bigeu: UPDATE_COMPLETE" in updated.stdout
    again = run(env, "deploy", *where, "--param", "DesiredTaskCount=3")
    assert again.returncode == 0, again.stderr
    assert "No changes to deploy" in again.stdout


def test_change_set_refused_for_no_updates_is_no_change(
    env: dict[str, str], slim: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past the local same-template shortcut, moto refuses the CreateChangeSet ("No updates are to be
    performed", as AWS does for some no-op updates): that is success too, not a failed deploy."""
    create_stack(env, "noop", slim)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(ops, "unchanged", lambda session, request: False)
    code = cli_deploy.main(["deploy", "--stack-name", "noop", "--template", str(slim)], {**env, **FAST})
    out = capsys.readouterr().out
    assert code == 0
    assert "No changes to deploy: stack noop already runs this template" in out


def test_delete_asks_for_the_stack_name(env: dict[str, str], slim: Path) -> None:
    create_stack(env, "todelete", slim)
    refused = run(env, "delete", "--stack-name", "todelete", stdin="yes\n")
    assert refused.returncode == 1
    assert "not confirmed; nothing deleted" in refused.stderr
    assert stack_exists(env, "todelete")
    confirmed = run(env, "delete", "--stack-name", "todelete", stdin="todelete\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "deleted" in confirmed.stdout
    assert not stack_exists(env, "todelete")


def test_delete_with_yes_and_missing_stack_is_a_no_op(env: dict[str, str]) -> None:
    result = run(env, "delete", "--stack-name", "neverthere", "--yes")
    assert result.returncode == 0
    assert "nothing to delete" in result.stdout


# ------------------------------------------------------------------ smoke


class _Proxy(StubHandler):
    key = "sk-s3cr3tvalue"

    def _send(self, code: int, body: dict[str, Any]) -> None:
        self.send_json(code, body, {"x-litellm-overhead-duration-ms": "2.5"})

    def do_GET(self) -> None:
        self._send(200, {"status": "healthy", "db": "connected"})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != f"Bearer {self.key}":
            self._send(401, {"error": "bad key"})
        else:
            self._send(200, {"model": request["model"], "choices": [{"message": {"content": "hi"}}]})


@pytest.fixture
def proxy_url() -> Iterator[str]:
    with LoopbackHttpServer(_Proxy) as server:
        yield server.url


@pytest.fixture(scope="module")
def master_secret(env: dict[str, str]) -> str:
    aws(env, "secretsmanager", "create-secret", "--name", "smoke/master-key", "--secret-string", "s3cr3tvalue")
    return "smoke/master-key"


def test_smoke_uses_sk_prefixed_key_without_printing_it(
    env: dict[str, str], proxy_url: str, master_secret: str
) -> None:
    result = run(env, "smoke", "--url", proxy_url, "--secret-id", master_secret)
    assert result.returncode == 0, result.stderr
    assert "ok   GET /health/readiness" in result.stdout
    assert "POST /v1/chat/completions (fake-openai-endpoint): HTTP 200, LiteLLM overhead 2.5 ms" in result.stdout
    assert "s3cr3tvalue" not in result.stdout + result.stderr


def test_smoke_show_key_prints_it(env: dict[str, str], proxy_url: str, master_secret: str) -> None:
    result = run(env, "smoke", "--url", proxy_url, "--secret-id", master_secret, "--show-key")
    assert result.returncode == 0, result.stderr
    assert "master key: sk-s3cr3tvalue" in result.stdout


def test_smoke_fails_on_a_rejected_key(env: dict[str, str], proxy_url: str) -> None:
    aws(env, "secretsmanager", "create-secret", "--name", "smoke/wrong", "--secret-string", "wrong")
    result = run(env, "smoke", "--url", proxy_url, "--secret-id", "smoke/wrong")
    assert result.returncode == 1
    assert "answered HTTP 401" in result.stderr
