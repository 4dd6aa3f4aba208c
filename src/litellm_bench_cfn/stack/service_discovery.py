"""Hooks of the main stack for the in-VPC benchmark harness (spec `harness.enabled`).

Only two things: a Cloud Map private DNS namespace (`bench.internal`) in which the harness stack
registers its fake OpenAI endpoint, and the `InVpcFakeEndpoint` parameter whose condition points the
proxy's BENCHMARK_API_BASE at that endpoint instead of the BenchmarkApiBase URL. The proxy's
readiness check never calls the upstream, so this stack becomes healthy before the harness exists:
launch the main stack first, then the harness (templates/cloudformation-ecs-harness.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import Equals, If, Parameter, Ref, Template, servicediscovery

from ..names import IN_VPC_FAKE_ENDPOINT
from ..spec import BenchmarkSpec
from .network import Network
from .parameters import add_console_parameter

NAMESPACE = "bench.internal"
FAKE_ENDPOINT_SERVICE = "fake-openai"
FAKE_ENDPOINT_PORT = 8080
IN_VPC_FAKE_ENDPOINT_URL = f"http://{FAKE_ENDPOINT_SERVICE}.{NAMESPACE}:{FAKE_ENDPOINT_PORT}/"
USE_IN_VPC_FAKE_ENDPOINT = "UseInVpcFakeEndpoint"


@dataclass(frozen=True)
class ServiceDiscovery:
    namespace: servicediscovery.PrivateDnsNamespace
    in_vpc_fake_endpoint: Parameter

    def api_base(self, fallback: Any) -> If:
        """The proxy's BENCHMARK_API_BASE: the in-VPC endpoint when the parameter is true."""
        return If(USE_IN_VPC_FAKE_ENDPOINT, IN_VPC_FAKE_ENDPOINT_URL, fallback)


def add_service_discovery(template: Template, spec: BenchmarkSpec, network: Network) -> ServiceDiscovery | None:
    if not spec.harness.enabled:
        return None
    parameter = add_console_parameter(
        template,
        Parameter(
            IN_VPC_FAKE_ENDPOINT,
            Type="String",
            Default=str(spec.harness.in_vpc_fake_endpoint).lower(),
            AllowedValues=["true", "false"],
            Description=f"true: the model calls {IN_VPC_FAKE_ENDPOINT_URL} (launch the harness stack next); "
            "false: BenchmarkApiBase.",
        ),
        "In-VPC benchmark",
        "Call the harness stack's in-VPC fake endpoint",
    )
    template.add_condition(USE_IN_VPC_FAKE_ENDPOINT, Equals(Ref(parameter), "true"))
    namespace = template.add_resource(
        servicediscovery.PrivateDnsNamespace("BenchNamespace", Name=NAMESPACE, Vpc=Ref(network.vpc))
    )
    return ServiceDiscovery(namespace=namespace, in_vpc_fake_endpoint=parameter)
