"""Templates over 51,200 bytes (issue #14): `render` writes them, and deploy.sh, publish and
launch-url take them through S3, against a moto server with the real AWS CLI and boto3.

The template is a real render (scaling.max_tasks 40, ~60 kB), not a padded stand-in; moto plays
S3 and CloudFormation (it reads --template-url objects from its own S3)."""

from __future__ import annotations

import io
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from litellm_bench_cfn.cli import main
from litellm_bench_cfn.render import TEMPLATE_BODY_LIMIT

from .conftest import REPO_ROOT
from .moto_server import moto_aws_env, moto_server  # noqa: F401

pytestmark = pytest.mark.e2e
DEPLOY = REPO_ROOT / "scripts" / "deploy.sh"
BIG_SPEC = """\
name: big
tasks: {desired_count: 2}
scaling: {enabled: true, min_tasks: 2, max_tasks: 40}
litellm: {workers: 2}
database: {max_connections: 2000, reserved_connections: 100}
alarms: {db_connections_fraction: 0.95}
harness: {enabled: false}
"""


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def templates_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("big")
    (work / "big.yaml").write_text(BIG_SPEC)
    code, _, err = cli("render", "--spec", str(work / "big.yaml"), "--out-dir", str(work / "templates"))
    assert code == 0 and "over the 51200-byte --template-body limit" in err
    return work / "templates"


@pytest.fixture(scope="module")
def big(templates_dir: Path) -> Path:
    path = templates_dir / "cloudformation-ecs-big.yaml"
    assert path.stat().st_size > TEMPLATE_BODY_LIMIT
    return path


def deploy_sh(
    env: dict[str, str], stack: str, template: Path, *params: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`deploy.sh deploy` of `template` as `stack` with `--param` for each of `params` (Key=Value)."""
    argv = ["bash", str(DEPLOY), "deploy", "--stack-name", stack, "--template", str(template)]
    argv += [arg for param in params for arg in ("--param", param)]
    env = {**env, "POLL_SECONDS": "1", "AWS_CALL_TIMEOUT": "60"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def test_deploy_sh_creates_a_large_rendered_template_through_s3(aws_env: dict[str, str], big: Path) -> None:
    done = deploy_sh(aws_env, "big-real", big, "DesiredTaskCount=30", "MaxTaskCount=40", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"template is {big.stat().st_size} bytes (> 51200): uploaded to s3://" in done.stdout
    assert "CREATE_COMPLETE" in done.stdout
    stack = boto3.client("cloudformation").describe_stacks(StackName="big-real")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["DesiredTaskCount"] == "30"


def test_deploy_sh_refuses_counts_the_rules_reject_before_any_upload(aws_env: dict[str, str], big: Path) -> None:
    done = deploy_sh(aws_env, "big-bad", big, "DesiredTaskCount=35", "MaxTaskCount=31", timeout=120)
    assert done.returncode == 2
    assert "TaskCountRange: MaxTaskCount must be a whole number no smaller than DesiredTaskCount." in done.stderr
    assert "uploaded to s3://" not in done.stdout


def test_publish_and_launch_url_take_the_large_template_through_s3(
    aws_env: dict[str, str], templates_dir: Path, big: Path
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="big-templates")
    code, out, err = cli("publish", "--bucket=big-templates", "--prefix=v2", f"--templates-dir={templates_dir}")
    assert code == 0, err
    url = "https://big-templates.s3.us-east-1.amazonaws.com/v2/cloudformation-ecs-big.yaml"
    assert f"template URL: {url}" in out
    stored = s3.get_object(Bucket="big-templates", Key="v2/cloudformation-ecs-big.yaml")["Body"].read()
    assert stored == big.read_bytes()

    code, out, err = cli("launch-url", "--template-url", url, "--stack-name", "big-console", "--param=MinTaskCount=3")
    assert code == 0, err
    query = parse_qs(urlparse(out.strip()).fragment.split("?", 1)[1])
    assert query["templateURL"] == [url] and query["param_MinTaskCount"] == ["3"]

    # What the console does with that link: create the stack from the S3 URL (no body limit there).
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName="big-console", TemplateURL=url, Capabilities=["CAPABILITY_IAM"])
    status = cfn.describe_stacks(StackName="big-console")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
