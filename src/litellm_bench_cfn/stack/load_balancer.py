"""Internet-facing ALB in the public subnets, forwarding to the proxy tasks by IP."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Template
from troposphere import elasticloadbalancingv2 as elbv2

from ..spec import LoadBalancerSpec
from .network import Network
from .security_groups import SecurityGroups


@dataclass(frozen=True)
class LoadBalancer:
    load_balancer: elbv2.LoadBalancer
    target_group: elbv2.TargetGroup
    listener: elbv2.Listener


def add_load_balancer(
    template: Template, spec: LoadBalancerSpec, network: Network, groups: SecurityGroups, proxy_port: int
) -> LoadBalancer:
    attributes = {
        "idle_timeout.timeout_seconds": str(spec.idle_timeout_s),
        "routing.http.drop_invalid_header_fields.enabled": "true",
    }
    alb = template.add_resource(
        elbv2.LoadBalancer(
            "LoadBalancer",
            Type="application",
            Scheme="internet-facing",
            Subnets=[Ref(s) for s in network.public_subnets],
            SecurityGroups=[Ref(groups.load_balancer)],
            LoadBalancerAttributes=[
                elbv2.LoadBalancerAttributes(Key=k, Value=v) for k, v in sorted(attributes.items())
            ],
        )
    )
    hc = spec.health_check
    target_group = template.add_resource(
        elbv2.TargetGroup(
            "ProxyTargetGroup",
            VpcId=Ref(network.vpc),
            TargetType="ip",
            Protocol="HTTP",
            Port=proxy_port,
            HealthCheckProtocol="HTTP",
            HealthCheckPath=hc.path,
            HealthCheckIntervalSeconds=hc.interval_s,
            HealthCheckTimeoutSeconds=hc.timeout_s,
            HealthyThresholdCount=hc.healthy_threshold,
            UnhealthyThresholdCount=hc.unhealthy_threshold,
            Matcher=elbv2.Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                elbv2.TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds", Value=str(spec.deregistration_delay_s)
                )
            ],
        )
    )
    listener = template.add_resource(
        elbv2.Listener(
            "HttpListener",
            LoadBalancerArn=Ref(alb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[elbv2.Action(Type="forward", TargetGroupArn=Ref(target_group))],
        )
    )
    return LoadBalancer(load_balancer=alb, target_group=target_group, listener=listener)
