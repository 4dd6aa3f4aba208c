"""Internet-facing ALB in the public subnets, forwarding to the proxy tasks by IP."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import If, Ref, Template
from troposphere import elasticloadbalancingv2 as elbv2

from ..spec import HttpsSpec, LoadBalancerSpec
from . import checkov
from .network import Network
from .options import HAS_CERTIFICATE, Options
from .security_groups import SecurityGroups


@dataclass(frozen=True)
class LoadBalancer:
    load_balancer: elbv2.LoadBalancer
    target_group: elbv2.TargetGroup
    listener: elbv2.Listener
    https_listener: elbv2.Listener


def add_load_balancer(
    template: Template,
    spec: LoadBalancerSpec,
    network: Network,
    groups: SecurityGroups,
    proxy_port: int,
    https: HttpsSpec,
    options: Options,
) -> LoadBalancer:
    attributes = {
        "idle_timeout.timeout_seconds": str(spec.idle_timeout_s),
        "routing.http.drop_invalid_header_fields.enabled": "true",
    }
    alb = template.add_resource(
        elbv2.LoadBalancer(
            "LoadBalancer",
            Type="application",
            Metadata=checkov.skip("CKV_AWS_91"),
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
    forward = elbv2.Action(Type="forward", TargetGroupArn=Ref(target_group))
    redirect = elbv2.Action(
        Type="redirect",
        RedirectConfig=elbv2.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
    # With a certificate, port 80 only redirects: no request or key travels in clear text.
    listener = template.add_resource(
        elbv2.Listener(
            "HttpListener",
            Metadata=checkov.skip("CKV_AWS_2", "CKV_AWS_103"),
            LoadBalancerArn=Ref(alb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[If(HAS_CERTIFICATE, redirect, forward)],
        )
    )
    https_listener = template.add_resource(
        elbv2.Listener(
            "HttpsListener",
            Condition=HAS_CERTIFICATE,
            LoadBalancerArn=Ref(alb),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=https.ssl_policy,
            Certificates=[elbv2.Certificate(CertificateArn=Ref(options.certificate_arn))],
            DefaultActions=[forward],
        )
    )
    return LoadBalancer(load_balancer=alb, target_group=target_group, listener=listener, https_listener=https_listener)
