"""Console quick-create links (`launch-url`) and the outputs a console user reads next."""

from __future__ import annotations

import subprocess
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from litellm_bench_cfn.aws.launch import LaunchUrlError, quick_create_url
from litellm_bench_cfn.aws.publish import stack_name_for
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.task_runtime import Resolver

S3_URL = "https://my-templates.s3.eu-west-1.amazonaws.com/v1/cloudformation-ecs.yaml"


def test_launch_url_is_a_well_formed_console_link() -> None:
    url = quick_create_url(S3_URL, "eu-west-1", "bench", {"AllowedIngressCidr": "203.0.113.7/32", "TaskCpu": "4096"})
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "console.aws.amazon.com", "/cloudformation/home")
    assert parse_qs(parts.query) == {"region": ["eu-west-1"]}
    route, _, query = parts.fragment.partition("?")
    assert route == "/stacks/create/review"
    assert "203.0.113.7%2F32" in query  # values are URL-encoded
    assert {k: v[0] for k, v in parse_qs(query).items()} == {
        "templateURL": S3_URL,
        "stackName": "bench",
        "param_AllowedIngressCidr": "203.0.113.7/32",
        "param_TaskCpu": "4096",
    }


def test_launch_url_encodes_reserved_characters() -> None:
    url = quick_create_url(S3_URL, "us-east-1", parameters={"BenchmarkApiBase": "https://x.example/a?b=1&c=2"})
    query = urlsplit(url).fragment.partition("?")[2]
    raw = dict(item.split("=", 1) for item in query.split("&"))
    assert unquote(raw["param_BenchmarkApiBase"]) == "https://x.example/a?b=1&c=2"


@pytest.mark.parametrize(
    "bad",
    [
        "http://my-templates.s3.amazonaws.com/t.yaml",
        "https://example.com/t.yaml",
        "s3://my-templates/t.yaml",
        "https://my-templates.s3.amazonaws.com/",
    ],
)
def test_launch_url_rejects_anything_but_an_s3_https_object(bad: str) -> None:
    with pytest.raises(LaunchUrlError, match="not an S3 object URL"):
        quick_create_url(bad, "us-east-1")


def test_launch_url_cli_prints_the_link(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["launch-url", "--template-url", S3_URL, "--region", "eu-west-1", "--param", "DesiredTaskCount=2"])
    assert code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/create/review?")
    assert out.endswith("&stackName=litellm-bench&param_DesiredTaskCount=2")


def test_launch_url_cli_rejects_a_non_s3_url_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch-url", "--template-url", "https://example.com/t.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an S3 object URL" in err


def test_stack_names_follow_the_template_file() -> None:
    from pathlib import Path

    assert stack_name_for(Path("cloudformation-ecs.yaml")) == "litellm-bench"
    assert stack_name_for(Path("cloudformation-ecs-small.yaml")) == "litellm-bench-small"


def _outputs(template: dict[str, Any]) -> dict[str, str]:
    resolver = Resolver(
        template,
        refs={"MasterKeySecret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s/master-key-AbC"},
        attributes={"LoadBalancer.DNSName": "lb-1.us-east-1.elb.amazonaws.com"},
    )
    return {
        k: str(resolver.resolve(v["Value"]))
        for k, v in template["Outputs"].items()
        if k in {"LoadBalancerUrl", "MasterKeyCommand", "SmokeTestCommand", "LoadTestCommand"}
    }


def test_outputs_tell_a_console_user_what_to_do_next(benchmark_template: dict[str, Any]) -> None:
    out = _outputs(benchmark_template)
    key_cmd = (
        'echo "sk-$(aws secretsmanager get-secret-value --region us-east-1 --secret-id '
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:s/master-key-AbC --query SecretString --output text)"'
    )
    assert out["LoadBalancerUrl"] == "http://lb-1.us-east-1.elb.amazonaws.com"
    assert out["MasterKeyCommand"] == key_cmd
    assert out["SmokeTestCommand"].startswith(
        "curl -sS -X POST http://lb-1.us-east-1.elb.amazonaws.com/v1/chat/completions "
        f'-H "Authorization: Bearer $({key_cmd})"'
    )
    assert '"model": "fake-openai-endpoint"' in out["SmokeTestCommand"]
    for command in (out["MasterKeyCommand"], out["SmokeTestCommand"], out["LoadTestCommand"]):
        assert subprocess.run(["bash", "-n", "-c", command], timeout=10).returncode == 0, command
    assert out["LoadTestCommand"] == (
        f"LITELLM_MASTER_KEY=$({key_cmd}) locust -f loadtest/locustfile.py --headless -u 1000 -r 500 -t 300s "
        "-H http://lb-1.us-east-1.elb.amazonaws.com/"
    )
