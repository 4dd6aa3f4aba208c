"""VPC across two AZs: public subnets for the load balancer and NAT, private ones for tasks and DB.

`network.nat_gateways` 1: one NAT gateway (in AZ 1) and one private route table for both private
subnets; 2: a NAT gateway in each AZ's public subnet and a private route table per AZ, so an AZ
outage leaves the other AZ's tasks their image pulls, secrets, logs and upstream calls. The first
NAT keeps the one-NAT logical IDs (NatGatewayIp, NatGateway, PrivateRouteTable, PrivateDefaultRoute):
switching a stack to 2 adds the second AZ's set and moves PrivateSubnet2 to it, replacing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAZs, Ref, Select, Tags, Template, ec2

from ..spec import NetworkSpec


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    public_subnets: tuple[ec2.Subnet, ...]
    private_subnets: tuple[ec2.Subnet, ...]
    nat_ips: tuple[ec2.EIP, ...]
    """Elastic IPs of the NAT gateways: the public source address of everything in the private subnets."""


def _subnet(template: Template, title: str, vpc: ec2.VPC, cidr: str, az_index: int, public: bool) -> ec2.Subnet:
    return template.add_resource(
        ec2.Subnet(
            title,
            VpcId=Ref(vpc),
            CidrBlock=cidr,
            AvailabilityZone=Select(az_index, GetAZs("")),
            MapPublicIpOnLaunch=False,
            Tags=Tags(Name=f"litellm-{'public' if public else 'private'}-{az_index + 1}"),
        )
    )


def add_network(template: Template, spec: NetworkSpec) -> Network:
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc", CidrBlock=spec.vpc_cidr, EnableDnsHostnames=True, EnableDnsSupport=True, Tags=Tags(Name="litellm")
        )
    )
    igw = template.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment("InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw))
    )
    public_routes = template.add_resource(ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc)))
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment,
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(igw),
        )
    )
    public = tuple(
        _subnet(template, f"PublicSubnet{i + 1}", vpc, cidr, i, public=True)
        for i, cidr in enumerate(spec.public_subnets)
    )
    private = tuple(
        _subnet(template, f"PrivateSubnet{i + 1}", vpc, cidr, i, public=False)
        for i, cidr in enumerate(spec.private_subnets)
    )
    nat_ips, private_tables = [], []
    for i in range(spec.nat_gateways):
        suffix = "" if i == 0 else str(i + 1)
        nat_ip = template.add_resource(ec2.EIP(f"NatGatewayIp{suffix}", Domain="vpc", DependsOn=attachment))
        nat = template.add_resource(
            ec2.NatGateway(f"NatGateway{suffix}", AllocationId=nat_ip.GetAtt("AllocationId"), SubnetId=Ref(public[i]))
        )
        table = template.add_resource(ec2.RouteTable(f"PrivateRouteTable{suffix}", VpcId=Ref(vpc)))
        template.add_resource(
            ec2.Route(
                f"PrivateDefaultRoute{suffix}",
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(nat),
            )
        )
        nat_ips.append(nat_ip)
        private_tables.append(table)
    for i, subnet in enumerate(public):
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PublicSubnet{i + 1}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(public_routes)
            )
        )
    for i, subnet in enumerate(private):
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PrivateSubnet{i + 1}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(private_tables[min(i, len(private_tables) - 1)]),
            )
        )
    return Network(vpc=vpc, public_subnets=public, private_subnets=private, nat_ips=tuple(nat_ips))
