"""Optional ElastiCache Redis shared by the proxies (spec `redis.enabled`, default off).

What LiteLLM's production guide uses Redis for: `router_settings` redis_host/redis_port/redis_password,
so rate limits (rpm/tpm) and usage are tracked across all instances instead of per worker. Response
caching (`litellm_settings.cache`) is NOT enabled: it would turn the benchmark's "no cache hits"
requests into a cache benchmark.

The replication group is private (task subnets, reachable only from the task security group),
encrypted in transit (TLS, so the proxy sets REDIS_SSL=True) and at rest, and its AUTH token is
a generated secret that ECS injects as REDIS_PASSWORD: nobody types or sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, ec2, ecs, elasticache, secretsmanager

from ..names import REDIS_AUTH_TOKEN_SECRET, REDIS_REPLICATION_GROUP
from ..spec import BenchmarkSpec
from . import checkov
from .network import Network
from .security_groups import SecurityGroups, security_group, tcp_ingress

HOST_ENV, PORT_ENV, PASSWORD_ENV, SSL_ENV = "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_SSL"


@dataclass(frozen=True)
class Redis:
    replication_group: elasticache.ReplicationGroup
    auth_token: secretsmanager.Secret
    security_group: ec2.SecurityGroup

    def environment(self) -> list[ecs.Environment]:
        return [
            ecs.Environment(Name=HOST_ENV, Value=GetAtt(self.replication_group, "PrimaryEndPoint.Address")),
            ecs.Environment(Name=PORT_ENV, Value=GetAtt(self.replication_group, "PrimaryEndPoint.Port")),
            ecs.Environment(Name=SSL_ENV, Value="True"),
        ]

    def secrets(self) -> list[ecs.Secret]:
        return [ecs.Secret(Name=PASSWORD_ENV, ValueFrom=Ref(self.auth_token))]


def litellm_router_settings(spec: BenchmarkSpec) -> dict[str, Any]:
    """The `router_settings` fragment proxy_config.litellm_config merges in; {} when Redis is off."""
    if not spec.redis.enabled:
        return {}
    return {
        "redis_host": f"os.environ/{HOST_ENV}",
        "redis_port": f"os.environ/{PORT_ENV}",
        "redis_password": f"os.environ/{PASSWORD_ENV}",
    }


def add_redis(template: Template, spec: BenchmarkSpec, network: Network, groups: SecurityGroups) -> Redis | None:
    if not spec.redis.enabled:
        return None
    redis = spec.redis
    group = security_group(
        template, "RedisSecurityGroup", "LiteLLM Redis: TLS port from the proxy tasks only", Ref(network.vpc)
    )
    tcp_ingress(
        template,
        "RedisIngressFromTasks",
        group,
        redis.port,
        "Redis from the LiteLLM tasks",
        SourceSecurityGroupId=GetAtt(groups.tasks, "GroupId"),
    )
    # Generated and deleted with the stack: it guards nothing that outlives the replication group.
    token = template.add_resource(
        secretsmanager.Secret(
            REDIS_AUTH_TOKEN_SECRET,
            Name=Sub("${AWS::StackName}/redis-auth-token"),
            Description="AUTH token of the LiteLLM Redis replication group (generated).",
            GenerateSecretString=secretsmanager.GenerateSecretString(PasswordLength=64, ExcludePunctuation=True),
            Metadata=checkov.skip("CKV_AWS_149"),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
    subnets = template.add_resource(
        elasticache.SubnetGroup(
            "RedisSubnetGroup",
            Description="Private subnets of the LiteLLM Redis",
            SubnetIds=[Ref(s) for s in network.private_subnets],
        )
    )
    failover = redis.replicas > 0
    # Delete, not Snapshot: Redis holds only short-lived rate-limit counters, rebuilt in a minute.
    group_resource = template.add_resource(
        elasticache.ReplicationGroup(
            REDIS_REPLICATION_GROUP,
            ReplicationGroupDescription="LiteLLM cross-instance rate limits and usage",
            Engine="redis",
            EngineVersion=redis.engine_version,
            CacheNodeType=redis.node_type,
            NumCacheClusters=1 + redis.replicas,
            AutomaticFailoverEnabled=failover,
            MultiAZEnabled=failover,
            Port=redis.port,
            CacheSubnetGroupName=Ref(subnets),
            SecurityGroupIds=[GetAtt(group, "GroupId")],
            TransitEncryptionEnabled=True,
            AtRestEncryptionEnabled=True,
            AuthToken=Sub("{{resolve:secretsmanager:${Arn}:SecretString}}", Arn=Ref(token)),
            AutoMinorVersionUpgrade=True,
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
    return Redis(replication_group=group_resource, auth_token=token, security_group=group)
