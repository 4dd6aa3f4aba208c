"""Exports of the main stack that the harness stack imports (`Fn::ImportValue`).

Each export is named `<stack name>-<Key>`; the harness builds the same names from its
`ProxyStackName` parameter (see `export_name`). Few and short on purpose: every byte counts in the
main template, and an exported value cannot change while an importing stack exists (delete the
harness stack before you delete or replace these resources).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from troposphere import Export, GetAtt, Join, Output, Ref, Sub, Template

from .compute import Compute
from .load_balancer import LoadBalancer
from .network import Network
from .secrets import Secrets
from .security_groups import SecurityGroups
from .service_discovery import ServiceDiscovery

VPC_ID = "VpcId"
PRIVATE_SUBNETS = "PrivateSubnets"
PUBLIC_SUBNETS = "PublicSubnets"
TASK_SECURITY_GROUP = "TaskSg"
CLUSTER = "Cluster"
LOAD_BALANCER_DNS = "AlbDns"
MASTER_KEY_SECRET = "KeyArn"
NAMESPACE_ID = "NamespaceId"
EXPORT_KEYS = (VPC_ID, PRIVATE_SUBNETS, PUBLIC_SUBNETS, TASK_SECURITY_GROUP, CLUSTER, LOAD_BALANCER_DNS,
               MASTER_KEY_SECRET, NAMESPACE_ID)  # fmt: skip


def export_name(stack_name: Any, key: str) -> Sub:
    """`<stack>-<key>`; `stack_name` is a value Sub accepts (a Ref to a parameter, or a string)."""
    return Sub(f"${{Stack}}-{key}", Stack=stack_name)


def export_values(
    network: Network,
    groups: SecurityGroups,
    compute: Compute,
    balancer: LoadBalancer,
    secrets: Secrets,
    discovery: ServiceDiscovery,
) -> Mapping[str, Any]:
    return {
        VPC_ID: Ref(network.vpc),
        PRIVATE_SUBNETS: Join(",", [Ref(s) for s in network.private_subnets]),
        PUBLIC_SUBNETS: Join(",", [Ref(s) for s in network.public_subnets]),
        TASK_SECURITY_GROUP: GetAtt(groups.tasks, "GroupId"),
        CLUSTER: Ref(compute.cluster),
        LOAD_BALANCER_DNS: GetAtt(balancer.load_balancer, "DNSName"),
        MASTER_KEY_SECRET: Ref(secrets.master_key),
        NAMESPACE_ID: Ref(discovery.namespace),  # Ref of a PrivateDnsNamespace is its ID
    }


def add_exports(
    template: Template,
    network: Network,
    groups: SecurityGroups,
    compute: Compute,
    balancer: LoadBalancer,
    secrets: Secrets,
    discovery: ServiceDiscovery | None,
) -> None:
    """Outputs `X<Key>` exported as `${AWS::StackName}-<Key>`; nothing when the harness is off."""
    if discovery is None:
        return
    values = export_values(network, groups, compute, balancer, secrets, discovery)
    for key in EXPORT_KEYS:
        template.add_output(
            Output(
                f"X{key}",
                Description="For the harness stack.",
                Value=values[key],
                Export=Export(Sub(f"${{AWS::StackName}}-{key}")),
            )
        )
