"""aws/deploy.py and `litellm-bench-cfn deploy` in-process: the parser, and what moto cannot play.

moto never fails a stack, never leaves a change set FAILED for "no changes" (it refuses the
CreateChangeSet instead) and never keeps a stack in progress, so those paths run against botocore's
Stubber, which answers with the responses real CloudFormation gives (shapes checked by botocore).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from litellm_bench_cfn.aws import deploy as ops
from litellm_bench_cfn.aws.clients import AwsTarget
from litellm_bench_cfn.cli import deploy as cli_deploy

from .conftest import BENCHMARK_TEMPLATE

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/failing/1"
NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)
ENVIRON = {"AWS_DEFAULT_REGION": "us-east-1", "POLL_SECONDS": "0"}


def event(logical: str, rtype: str, status: str, reason: str | None, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "StackId": STACK_ID,
        "EventId": f"e{n}",
        "StackName": "failing",
        "LogicalResourceId": logical,
        "ResourceType": rtype,
        "ResourceStatus": status,
        "Timestamp": NOW - dt.timedelta(seconds=n),
    }
    if reason is not None:
        row["ResourceStatusReason"] = reason
    return row


ROLLED_BACK_EVENTS = [
    event("failing", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", None, 0),
    event("ProxyService", "AWS::ECS::Service", "CREATE_FAILED", "Resource creation cancelled", 1),
    event("Database", "AWS::RDS::DBInstance", "CREATE_FAILED", "Cannot find version 16.99 for postgres", 2),
    event("failing", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated", 3),
    event("Old", "AWS::RDS::DBInstance", "CREATE_FAILED", "an earlier attempt", 4),
]


def stack(status: str) -> dict[str, Any]:
    return {"Stacks": [{"StackName": "failing", "StackId": STACK_ID, "StackStatus": status, "CreationTime": NOW}]}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    """Every client the deploy command makes is a stubbed one; nothing leaves the process."""
    clients = {
        name: boto3.client(name, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        for name in ("cloudformation", "sts", "s3")
    }
    stubs = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(AwsTarget, "client", lambda self, service: clients[service])
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def identity(stubs: dict[str, Stubber]) -> None:
    stubs["sts"].add_response(
        "get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/t", "UserId": "U"}
    )


def test_failed_deploy_prints_the_first_failed_resource(
    stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    identity(stubbed)
    cfn = stubbed["cloudformation"]
    cfn.add_client_error("describe_stacks", "ValidationError", "Stack with id failing does not exist")
    cfn.add_response("get_template_summary", {"Parameters": [{"ParameterKey": "DesiredTaskCount"}]})
    cfn.add_response("create_change_set", {"Id": "arn:cs", "StackId": STACK_ID})
    add = {"Action": "Add", "LogicalResourceId": "Database", "ResourceType": "AWS::RDS::DBInstance"}
    cfn.add_response("describe_change_set", {"Status": "CREATE_IN_PROGRESS"})
    cfn.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": add}]},
    )
    cfn.add_response("execute_change_set", {})
    cfn.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
    cfn.add_response("describe_stack_events", {"StackEvents": ROLLED_BACK_EVENTS})
    cfn.add_response("describe_stack_events", {"StackEvents": ROLLED_BACK_EVENTS})
    argv = ["deploy", "--stack-name", "failing", "--no-preflight", "--template", str(BENCHMARK_TEMPLATE)]
    code = cli_deploy.main(argv, ENVIRON)
    out, err = capsys.readouterr()
    assert code == 1
    assert re.search(r"^\[   0s\] change set deploy-\d{8}-\d{6}: CREATE_IN_PROGRESS$", out, re.M), out
    assert "  Add     Database                         AWS::RDS::DBInstance" in out
    assert "[   0s] ROLLBACK_COMPLETE | failing ROLLBACK_COMPLETE" in out
    assert "create of stack failing failed: ROLLBACK_COMPLETE" in err
    first = [line for line in err.splitlines() if line.startswith("first failure:")]
    assert first == [
        "first failure: Database (AWS::RDS::DBInstance) CREATE_FAILED: Cannot find version 16.99 for postgres"
    ]
    assert "an earlier attempt" not in err


def test_change_set_without_changes_is_success(stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    """Real CloudFormation accepts the change set, then marks it FAILED "didn't contain changes"."""
    identity(stubbed)
    cfn = stubbed["cloudformation"]
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("get_template", {"TemplateBody": "an older template"})  # so the local shortcut says: changed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("get_template_summary", {"Parameters": [{"ParameterKey": "DesiredTaskCount"}]})
    cfn.add_response(
        "create_change_set",
        {"Id": "arn:cs", "StackId": STACK_ID},
        {
            "StackName": "failing",
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "Parameters": [{"ParameterKey": "DesiredTaskCount", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_IAM"],
            "Description": "scripts/deploy.sh",
            "TemplateBody": BENCHMARK_TEMPLATE.read_text(),
        },
    )
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    cfn.add_response("describe_change_set", {"Status": "FAILED", "StatusReason": reason})
    cfn.add_response("delete_change_set", {})
    argv = ["deploy", "--stack-name", "failing", "--no-preflight", "--template", str(BENCHMARK_TEMPLATE)]
    code = cli_deploy.main(argv, ENVIRON)
    out = capsys.readouterr().out
    assert code == 0
    assert "No changes to deploy" in out


def test_wait_gives_up_at_the_deadline(stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    cfn = stubbed["cloudformation"]
    clock = {"t": 0.0}  # time passes only while the wait sleeps: 5 s per poll

    def sleep(_: float) -> None:
        clock["t"] += 5

    session = ops.StackSession(
        AwsTarget("us-east-1"), "failing", "us-east-1", "123456789012", timeout_s=12, poll_s=0,
        clock=ops.Clock(now=lambda: clock["t"], sleep=sleep),
    )  # fmt: skip
    progress = {"StackEvents": [event("Database", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS", None, 0)]}
    for _ in range(4):  # polls at 0, 5, 10 and 15 s; the last is past the 12 s deadline
        cfn.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"))
        cfn.add_response("describe_stack_events", progress)
    assert ops.wait_stack(session, "create") is None
    captured = capsys.readouterr()
    assert "gave up waiting after 12s; stack failing is still CREATE_IN_PROGRESS" in captured.err
    assert "CREATE_IN_PROGRESS | Database CREATE_IN_PROGRESS" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy", "--colour"], "unknown option --colour (see --help)"),
        (["status", "--stack-name"], "--stack-name needs a value (see --help)"),
        (["status", "outputs"], "one command at a time (status, then outputs)"),
        (["status", "--timeout", "1h"], "--timeout takes whole seconds, got 1h"),
        (["status", "--stack-name", "9lives"], "invalid stack name 9lives"),
        (["deploy", "--param", "NoEquals"], "--param takes KEY=VALUE, got NoEquals"),
        (["launch"], "unknown command launch (see --help)"),
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_deploy.main(argv, ENVIRON) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_options_go_before_or_after_the_command() -> None:
    options = cli_deploy.parse(["--stack-name", "a", "deploy", "--param", "K=1", "--yes", "--param", "L=x=y"])
    assert (options.command, options.stack_name, options.params, options.assume_yes) == (
        "deploy",
        "a",
        ["K=1", "L=x=y"],
        True,
    )
    assert cli_deploy._overrides(options.params) == {"K": "1", "L": "x=y"}


def test_help_anywhere_and_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_deploy.main(["status", "help"], ENVIRON) == 0
    assert capsys.readouterr().out.startswith("Usage: scripts/deploy.sh COMMAND [OPTIONS]")
    assert cli_deploy.main([], ENVIRON) == 2
    assert "Usage: scripts/deploy.sh" in capsys.readouterr().err


def test_bad_parameter_is_refused_before_any_aws_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_aws(self: AwsTarget, service: str) -> Any:
        raise AssertionError(f"{service} client made before the parameter check")

    monkeypatch.setattr(AwsTarget, "client", no_aws)
    argv = ["deploy", "--template", str(BENCHMARK_TEMPLATE), "--param", "TaskCpu=1000"]
    assert cli_deploy.main(argv, ENVIRON) == 2
    err = capsys.readouterr().err
    assert "TaskCpu: '1000' is not allowed" in err
    assert "nothing was sent to AWS" in err


def test_change_set_lines_show_actions_replacement_and_parameters() -> None:
    change_set = {
        "Changes": [
            {
                "ResourceChange": {
                    "Action": "Modify",
                    "LogicalResourceId": "Db",
                    "ResourceType": "T",
                    "Replacement": "True",
                }
            },
            {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "Old", "ResourceType": "U"}},
        ],
        "Parameters": [{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B", "ParameterValue": "x"}],
    }
    assert ops.change_set_lines("deploy-1", change_set) == [
        "change set deploy-1:",
        "  Modify  Db                               T  replacement: True",
        "  Remove  Old                              U",
        "  parameters: A=1 B=x",
    ]


@pytest.mark.parametrize("content", [b"\xff\xfe not text", b"[1, 2]\n", b"Parameters: [\n"])
def test_unreadable_template_is_one_line_and_exit_2(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "bad.yaml"
    template.write_bytes(content)
    assert cli_deploy.main(["deploy", "--template", str(template)], ENVIRON) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {template}: cannot check its parameters: ")
    assert err.count("\n") == 1
