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
    url = Sub("http://${Dns}", Dns=GetAtt(balancer.load_balancer, "DNSName"))
    key_command = Sub(
        'echo "sk-$(aws secretsmanager get-secret-value --region ${AWS::Region} --secret-id ${Arn} '
        '--query SecretString --output text)"',
        Arn=Ref(secrets.master_key),
    )
    model = spec.litellm.models[0].model_name
    lt = spec.load_test
    outputs = [
        Output(LOAD_BALANCER_URL_OUTPUT, Description="Base URL of the LiteLLM proxy (the load balancer).", Value=url),
        Output(
            "ApiEndpoint",
            Description="OpenAI-compatible chat completions endpoint.",
            Value=Sub("http://${Dns}/v1/chat/completions", Dns=GetAtt(balancer.load_balancer, "DNSName")),
        ),
        Output(
            MASTER_KEY_SECRET_ARN_OUTPUT,
            Description="Secret holding the master key without its sk- prefix (the key is sk-<value>).",
            Value=Ref(secrets.master_key),
        ),
        Output("MasterKeyCommand", Description="Prints the LiteLLM master key.", Value=key_command),
        Output(
            "DatabasePasswordSecretArn",
            Description="Secret holding the DB master password.",
            Value=Ref(secrets.db_password),
        ),
        Output("ClusterName", Description="ECS cluster running the proxy.", Value=Ref(compute.cluster)),
        Output("ServiceName", Description="ECS service of the proxy tasks.", Value=GetAtt(compute.service, "Name")),
        Output(
            "TargetGroupArn",
            Description="Target group of the proxy tasks (bench aws checks that every task is healthy in it).",
            Value=Ref(balancer.target_group),
        ),
        Output("LogGroupName", Description="CloudWatch Logs group of the proxy tasks.", Value=log_group_name),
        Output(
            "SmokeTestCommand",
            Description="One chat completion through the stack (needs the AWS CLI and curl).",
            Value=Sub(
                'curl -sS -X POST http://${Dns}/v1/chat/completions -H "Authorization: Bearer $(${KeyCommand})" '
                "-H 'Content-Type: application/json' "
                f'-d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "hello"}}]}}\'',
                Dns=GetAtt(balancer.load_balancer, "DNSName"),
                KeyCommand=key_command,
            ),
        ),
        Output(
            LOAD_TEST_COMMAND_OUTPUT,
            Description="LiteLLM's published Locust benchmark against this stack (run from the repository).",
            Value=Sub(
                "LITELLM_MASTER_KEY=$(${KeyCommand}) locust -f loadtest/locustfile.py --headless "
                f"-u {lt.users} -r {lt.spawn_rate:g} -t {lt.duration_s}s -H http://${{Dns}}/",
                Dns=GetAtt(balancer.load_balancer, "DNSName"),
                KeyCommand=key_command,
            ),
        ),
    ]
    for output in outputs:
        template.add_output(output)
