"""VPC across two AZs: public subnets for the load balancer and NAT, private ones for tasks and DB."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAZs, Ref, Select, Tags, Template, ec2

from ..spec import NetworkSpec


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    public_subnets: tuple[ec2.Subnet, ...]
    private_subnets: tuple[ec2.Subnet, ...]


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
    nat_ip = template.add_resource(ec2.EIP("NatGatewayIp", Domain="vpc", DependsOn=attachment))
    nat = template.add_resource(
        ec2.NatGateway("NatGateway", AllocationId=nat_ip.GetAtt("AllocationId"), SubnetId=Ref(public[0]))
    )
    private_routes = template.add_resource(ec2.RouteTable("PrivateRouteTable", VpcId=Ref(vpc)))
    template.add_resource(
        ec2.Route(
            "PrivateDefaultRoute",
            RouteTableId=Ref(private_routes),
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=Ref(nat),
        )
    )
    for kind, subnets, table in (("Public", public, public_routes), ("Private", private, private_routes)):
        for i, subnet in enumerate(subnets):
            template.add_resource(
                ec2.SubnetRouteTableAssociation(
                    f"{kind}Subnet{i + 1}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(table)
                )
            )
    return Network(vpc=vpc, public_subnets=public, private_subnets=private)
