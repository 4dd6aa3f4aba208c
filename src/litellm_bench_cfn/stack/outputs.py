"""Outputs: everything a user needs next, each with a description."""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Sub, Template

from ..names import LOAD_BALANCER_URL_OUTPUT, LOAD_TEST_COMMAND_OUTPUT, MASTER_KEY_SECRET_ARN_OUTPUT
from ..spec import BenchmarkSpec
from .compute import Compute
from .load_balancer import LoadBalancer
from .secrets import Secrets


def add_outputs(
    template: Template,
    spec: BenchmarkSpec,
    balancer: LoadBalancer,
    compute: Compute,
    secrets: Secrets,
    log_group_name: object,
) -> None:
    dns = GetAtt(balancer.load_balancer, "DNSName")
    key_command = Sub(
        'echo "sk-$(aws secretsmanager get-secret-value --region ${AWS::Region} --secret-id ${Arn} '
        '--query SecretString --output text)"',
        Arn=Ref(secrets.master_key),
    )
    model = spec.litellm.models[0].model_name
    lt = spec.load_test
    smoke_test = Sub(
        'curl -sS -X POST http://${Dns}/v1/chat/completions -H "Authorization: Bearer $(${KeyCommand})" '
        "-H 'Content-Type: application/json' "
        f'-d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "hello"}}]}}\'',
        Dns=dns,
        KeyCommand=key_command,
    )
    load_test = Sub(
        "LITELLM_MASTER_KEY=$(${KeyCommand}) locust -f loadtest/locustfile.py --headless "
        f"-u {lt.users} -r {lt.spawn_rate:g} -t {lt.duration_s}s -H http://${{Dns}}/",
        Dns=dns,
        KeyCommand=key_command,
    )
    outputs: list[tuple[str, str, object]] = [
        (LOAD_BALANCER_URL_OUTPUT, "Base URL of the LiteLLM proxy (the load balancer).", Sub("http://${Dns}", Dns=dns)),
        (
            "ApiEndpoint",
            "OpenAI-compatible chat completions endpoint.",
            Sub("http://${Dns}/v1/chat/completions", Dns=dns),
        ),
        (
            MASTER_KEY_SECRET_ARN_OUTPUT,
            "Secret holding the master key without its sk- prefix (the key is sk-<value>).",
            Ref(secrets.master_key),
        ),
        ("MasterKeyCommand", "Prints the LiteLLM master key.", key_command),
        ("DatabasePasswordSecretArn", "Secret holding the DB master password.", Ref(secrets.db_password)),
        ("ClusterName", "ECS cluster running the proxy.", Ref(compute.cluster)),
        ("ServiceName", "ECS service of the proxy tasks.", GetAtt(compute.service, "Name")),
        (
            "TargetGroupArn",
            "Target group of the proxy tasks (bench aws checks that every task is healthy in it).",
            Ref(balancer.target_group),
        ),
        ("LogGroupName", "CloudWatch Logs group of the proxy tasks.", log_group_name),
        ("SmokeTestCommand", "One chat completion through the stack (needs the AWS CLI and curl).", smoke_test),
        (
            LOAD_TEST_COMMAND_OUTPUT,
            "LiteLLM's published Locust benchmark against this stack (run from the repository).",
            load_test,
        ),
    ]
    for title, description, value in outputs:
        template.add_output(Output(title, Description=description, Value=value))
