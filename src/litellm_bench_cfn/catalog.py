"""AWS service limits and sizes the spec, the template and the cost model share.

Numbers come from AWS documentation (see the docstring of each table); they are data, kept in
one place so the pydantic rules, the CloudFormation `Rules` and the cost estimate cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}
"""Valid Fargate task memory (MiB) for each CPU value (units), Linux platform 1.4."""


def describe_memory_choices(cpu: int) -> str:
    """Human text of the memory values Fargate allows with `cpu`: '8192-30720 in 1024 MiB steps'."""
    choices = FARGATE_MEMORY_BY_CPU[cpu]
    if len(choices) <= 3:
        return ", ".join(str(m) for m in choices)
    step = choices[1] - choices[0]
    return f"{choices[0]}-{choices[-1]} in {step} MiB steps"


@dataclass(frozen=True)
class DbInstanceClass:
    vcpu: int
    memory_gib: float
    performance_insights: bool
    """Performance Insights is not offered on the micro and small burstable classes."""

    @property
    def default_max_connections(self) -> int:
        """RDS for PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000)."""
        return min(int(self.memory_gib * 1024**3 / 9_531_392), 5000)


DB_INSTANCE_CLASSES: dict[str, DbInstanceClass] = {
    "db.t3.micro": DbInstanceClass(2, 1, False),
    "db.t3.small": DbInstanceClass(2, 2, False),
    "db.t3.medium": DbInstanceClass(2, 4, True),
    "db.t3.large": DbInstanceClass(2, 8, True),
    "db.t4g.micro": DbInstanceClass(2, 1, False),
    "db.t4g.small": DbInstanceClass(2, 2, False),
    "db.t4g.medium": DbInstanceClass(2, 4, True),
    "db.t4g.large": DbInstanceClass(2, 8, True),
    "db.m6g.large": DbInstanceClass(2, 8, True),
    "db.m6g.xlarge": DbInstanceClass(4, 16, True),
    "db.m6g.2xlarge": DbInstanceClass(8, 32, True),
    "db.m7g.large": DbInstanceClass(2, 8, True),
    "db.m7g.xlarge": DbInstanceClass(4, 16, True),
    "db.m7g.2xlarge": DbInstanceClass(8, 32, True),
    "db.r6g.large": DbInstanceClass(2, 16, True),
    "db.r6g.xlarge": DbInstanceClass(4, 32, True),
    "db.r6g.2xlarge": DbInstanceClass(8, 64, True),
    "db.r7g.large": DbInstanceClass(2, 16, True),
    "db.r7g.xlarge": DbInstanceClass(4, 32, True),
    "db.r7g.2xlarge": DbInstanceClass(8, 64, True),
}
"""DB instance classes this project knows for RDS for PostgreSQL 16 (vCPU, memory)."""


POSTGRES_ENGINE_VERSIONS: tuple[str, ...] = (
    "13.23",
    "14.18", "14.19", "14.20", "14.21", "14.22", "14.23", "14.24",
    "15.13", "15.14", "15.15", "15.16", "15.17", "15.18", "15.19",
    "16.9", "16.10", "16.11", "16.12", "16.13", "16.14", "16.15",
    "17.5", "17.6", "17.7", "17.8", "17.9", "17.10", "17.11",
    "18.1", "18.2", "18.3", "18.4", "18.6",
)  # fmt: skip
"""RDS for PostgreSQL versions a new DB instance can be created with (cfn-lint 1.58.0's engine list
less its deprecated ones, majors 13-18); the parameter group family is `postgres<major>`."""


ALB_TLS12_POLICIES: tuple[str, ...] = (
    *(f"ELBSecurityPolicy-TLS13-{v}-2021-06" for v in ("1-2", "1-2-Res", "1-2-Ext1", "1-2-Ext2", "1-3")),
    *(
        f"ELBSecurityPolicy-TLS13-{v}-FIPS-2023-04"
        for v in ("1-2", "1-2-Res", "1-2-Ext0", "1-2-Ext1", "1-2-Ext2", "1-3")
    ),
    *(f"ELBSecurityPolicy-TLS13-{v}-PQ-2025-09" for v in ("1-2", "1-2-Res", "1-2-Ext1", "1-2-Ext2", "1-3")),
    *(
        f"ELBSecurityPolicy-TLS13-{v}-FIPS-PQ-2025-09"
        for v in ("1-2", "1-2-Res", "1-2-Ext0", "1-2-Ext1", "1-2-Ext2", "1-3")
    ),
)
"""ALB security policies with TLS 1.3 and nothing older than TLS 1.2 (ELB User Guide, "Security
policies for your Application Load Balancer"); TLS13-1-0/1-1 also take TLS 1.0/1.1 clients."""

ELASTICACHE_REDIS_VERSIONS: tuple[str, ...] = ("6.0", "6.2", "7.0", "7.1")
"""ElastiCache for Redis OSS versions with in-transit encryption and AUTH tokens (stack/redis.py)."""

RDS_RESERVED_NAMES = frozenset({"rdsadmin", "rdsrepladmin", "rdstopmgr", "rds_superuser", "template0", "template1"})
"""Names RDS for PostgreSQL keeps for itself or its template databases."""
_POSTGRES_RESERVED = (
    "all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create "
    "current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc "
    "distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral "
    "leading limit localtime localtimestamp not null offset on only or order placing primary references returning "
    "select session_user some symmetric system_user table then to trailing true union unique user using variadic "
    "when where window with"
)
POSTGRES_RESERVED_WORDS = frozenset(_POSTGRES_RESERVED.split())
"""PostgreSQL's fully reserved key words (Appendix C): RDS refuses them as DB or user names."""


@dataclass(frozen=True)
class StorageRules:
    """RDS for PostgreSQL storage limits for one storage type (RDS User Guide, "DB instance storage")."""

    min_gib: int
    max_gib: int
    iops_range: tuple[int, int] | None = None
    iops_per_gib: tuple[float, float] | None = None
    throughput_range: tuple[int, int] | None = None
    provisioned_from_gib: int | None = None
    """gp3 only: below this size IOPS/throughput are a fixed baseline and cannot be set."""
    baseline_below: tuple[int, int] | None = None
    baseline_from: tuple[int, int] | None = None
    max_throughput_per_iops: float | None = None


STORAGE_RULES: dict[str, StorageRules] = {
    "gp2": StorageRules(min_gib=20, max_gib=65536),
    "gp3": StorageRules(
        min_gib=20,
        max_gib=65536,
        iops_range=(12000, 64000),
        iops_per_gib=(0.5, 500),
        throughput_range=(500, 4000),
        provisioned_from_gib=400,
        baseline_below=(3000, 125),
        baseline_from=(12000, 500),
        max_throughput_per_iops=0.25,
    ),
    "io1": StorageRules(min_gib=100, max_gib=65536, iops_range=(1000, 256000), iops_per_gib=(0.5, 50)),
    "io2": StorageRules(min_gib=100, max_gib=65536, iops_range=(1000, 256000), iops_per_gib=(0.5, 1000)),
}

LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
"""The values CloudWatch Logs accepts for RetentionInDays."""
