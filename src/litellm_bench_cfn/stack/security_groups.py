"""Security groups chained ALB -> tasks (proxy port) -> DB (5432), nothing else inbound."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Join, Ref, Template, ec2

from . import checkov
from .network import Network
from .options import HAS_CERTIFICATE
from .parameters import Parameters

POSTGRES_PORT = 5432
LISTENER_PORTS = (("Http", 80, None), ("Https", 443, HAS_CERTIFICATE))
"""The load balancer's listeners: protocol, port and the condition the listener exists under."""


@dataclass(frozen=True)
class SecurityGroups:
    load_balancer: ec2.SecurityGroup
    tasks: ec2.SecurityGroup
    database: ec2.SecurityGroup


def security_group(template: Template, title: str, description: str, vpc_id: object) -> ec2.SecurityGroup:
    """A group with no inbound rule (added one by one) and all outbound."""
    return template.add_resource(
        ec2.SecurityGroup(
            title,
            GroupDescription=description,
            VpcId=vpc_id,
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(IpProtocol="-1", CidrIp="0.0.0.0/0", Description="All outbound")
            ],
        )
    )


def tcp_ingress(
    template: Template, title: str, group: ec2.SecurityGroup, port: int, description: str, **source: object
) -> ec2.SecurityGroupIngress:
    """An inbound rule of `group` for one TCP port; `source` is CidrIp or SourceSecurityGroupId, plus any
    resource attribute (Condition, Metadata)."""
    return template.add_resource(
        ec2.SecurityGroupIngress(
            title,
            GroupId=GetAtt(group, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            Description=description,
            **source,
        )
    )


def _admit_nat_addresses(template: Template, alb: ec2.SecurityGroup, network: Network) -> None:
    """The in-VPC harness's Locust reaches the internet-facing ALB from the NAT gateways' public addresses,
    which a narrowed AllowedIngressCidr would shut out. An internal ALB would avoid the hop but cost a second
    load balancer and measure a different path than a user's; a /32 per NAT address admits only this VPC."""
    for i, nat_ip in enumerate(network.nat_ips):
        suffix = "" if i == 0 else str(i + 1)
        for protocol, port, condition in LISTENER_PORTS:
            tcp_ingress(
                template,
                f"LoadBalancer{protocol}IngressFromNat{suffix}",
                alb,
                port,
                f"{protocol.upper()} from this VPC's NAT gateway (in-VPC benchmark harness)",
                CidrIp=Join("", [Ref(nat_ip), "/32"]),
                **({"Condition": condition} if condition else {}),
            )


def add_security_groups(
    template: Template, network: Network, params: Parameters, proxy_port: int, admit_nat: bool = False
) -> SecurityGroups:
    """`admit_nat`: also let the NAT gateways' addresses reach the ALB (the harness hooks are on)."""
    alb = security_group(
        template, "LoadBalancerSecurityGroup", "LiteLLM load balancer: HTTP from the allowed CIDR", Ref(network.vpc)
    )
    tasks = security_group(
        template, "TaskSecurityGroup", "LiteLLM proxy tasks: proxy port from the load balancer only", Ref(network.vpc)
    )
    db = security_group(
        template, "DatabaseSecurityGroup", "LiteLLM PostgreSQL: 5432 from the proxy tasks only", Ref(network.vpc)
    )
    for protocol, port, condition in LISTENER_PORTS:
        tcp_ingress(
            template,
            f"LoadBalancer{protocol}Ingress",
            alb,
            port,
            f"{protocol.upper()} from the allowed CIDR",
            CidrIp=Ref(params.allowed_ingress_cidr),
            **({"Condition": condition} if condition else {}),
            # CKV_AWS_260 looks at port 80 only: the HTTPS rule is as open and needs no skip.
            **({"Metadata": checkov.skip("CKV_AWS_260")} if port == 80 else {}),
        )
    if admit_nat:
        _admit_nat_addresses(template, alb, network)
    tcp_ingress(
        template,
        "TaskIngressFromLoadBalancer",
        tasks,
        proxy_port,
        "LiteLLM proxy port from the load balancer",
        SourceSecurityGroupId=GetAtt(alb, "GroupId"),
    )
    tcp_ingress(
        template,
        "DatabaseIngressFromTasks",
        db,
        POSTGRES_PORT,
        "PostgreSQL from the LiteLLM tasks",
        SourceSecurityGroupId=GetAtt(tasks, "GroupId"),
    )
    return SecurityGroups(load_balancer=alb, tasks=tasks, database=db)
