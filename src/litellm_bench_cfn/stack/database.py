"""RDS PostgreSQL for LiteLLM: private, encrypted, tuned by a parameter group derived from the spec."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import FindInMap, If, NoValue, Ref, Sub, Template, rds

from .. import catalog
from ..spec import DatabaseSpec
from . import checkov
from .network import Network
from .parameters import Parameters
from .secrets import Secrets
from .security_groups import SecurityGroups

DB_CLASS_MAPPING = "DbInstanceClasses"
DELETION_POLICY = "Snapshot"
"""The DB's final snapshot outlives the stack; secrets.py keeps the salt key with it (keeps_data)."""


_CFN_LINT_MAJOR_VERSION = {"cfn-lint": {"config": {"ignore_checks": ["W3691"]}}}
"""cfn-lint's W3691 data lists the bare majors ("16") as deprecated, yet RDS takes a major alone and creates
a recent minor of it (RDS User Guide, PostgreSQL versions; cfn-lint's own E3691 accepts "16", issue 3849).
Only this check and only on the DB: tests/test_infra.py checks the version is one E3691 accepts."""


def keeps_data(policy: str) -> bool:
    """Whether a DeletionPolicy / UpdateReplacePolicy leaves the DB's data behind."""
    return policy in ("Snapshot", "Retain")


@dataclass(frozen=True)
class Database:
    instance: rds.DBInstance


def postgres_parameters(spec: DatabaseSpec) -> dict[str, str]:
    """Seed 003's recommended settings, as RDS formulas so they follow the chosen instance class.

    Seed 003 gives, for 4 GiB: shared_buffers 1 GB (25%), effective_cache_size 3 GB (75%),
    maintenance_work_mem 256 MB (1/16), work_mem 5 MB (25% of memory / max_connections).
    """
    work_mem_divisor = 4 * 1024 * spec.max_connections
    return {
        "max_connections": str(spec.max_connections),
        "shared_buffers": "{DBInstanceClassMemory/32768}",
        "effective_cache_size": "{DBInstanceClassMemory*3/32768}",
        "maintenance_work_mem": "{DBInstanceClassMemory/16384}",
        "work_mem": f"{{DBInstanceClassMemory/{work_mem_divisor}}}",
        "log_min_duration_statement": "1000",
        "rds.force_ssl": "1",
    }


def _provisioned_storage(spec: DatabaseSpec) -> dict[str, int]:
    """Iops/StorageThroughput only when the spec sets them (gp3 below 400 GiB must omit both)."""
    settings = {"Iops": spec.iops, "StorageThroughput": spec.storage_throughput_mibps}
    return {key: value for key, value in settings.items() if value is not None}


def add_db_class_mapping(template: Template) -> None:
    template.add_mapping(
        DB_CLASS_MAPPING,
        {
            name: {"PerformanceInsights": "true" if cls.performance_insights else "false"}
            for name, cls in sorted(catalog.DB_INSTANCE_CLASSES.items())
        },
    )


def add_database(
    template: Template,
    spec: DatabaseSpec,
    network: Network,
    groups: SecurityGroups,
    secrets: Secrets,
    params: Parameters,
) -> Database:
    add_db_class_mapping(template)
    subnet_group = template.add_resource(
        rds.DBSubnetGroup(
            "DatabaseSubnetGroup",
            DBSubnetGroupDescription="Private subnets of the LiteLLM database",
            SubnetIds=[Ref(s) for s in network.private_subnets],
        )
    )
    parameter_group = template.add_resource(
        rds.DBParameterGroup(
            "DatabaseParameterGroup",
            Description="LiteLLM PostgreSQL settings for 1-2K RPS (seed 003)",
            Family=spec.parameter_group_family,
            Parameters=postgres_parameters(spec),
        )
    )
    performance_insights = FindInMap(DB_CLASS_MAPPING, Ref(params.db_instance_class), "PerformanceInsights")
    template.add_condition("PerformanceInsightsSupported", {"Fn::Equals": [performance_insights, "true"]})
    instance = template.add_resource(
        rds.DBInstance(
            "Database",
            Engine="postgres",
            EngineVersion=spec.engine_version,
            DBInstanceClass=Ref(params.db_instance_class),
            AllocatedStorage=str(spec.allocated_storage_gib),
            StorageType=spec.storage_type,
            **_provisioned_storage(spec),
            StorageEncrypted=True,
            DBName=spec.database_name,
            MasterUsername=spec.master_username,
            MasterUserPassword=Sub(
                "{{resolve:secretsmanager:${SecretArn}:SecretString}}", SecretArn=Ref(secrets.db_password)
            ),
            DBSubnetGroupName=Ref(subnet_group),
            DBParameterGroupName=Ref(parameter_group),
            VPCSecurityGroups=[Ref(groups.database)],
            PubliclyAccessible=False,
            EnableIAMDatabaseAuthentication=True,
            MultiAZ=spec.multi_az,
            BackupRetentionPeriod=spec.backup_retention_days,
            CopyTagsToSnapshot=True,
            DeletionProtection=spec.deletion_protection,
            AutoMinorVersionUpgrade=True,
            EnablePerformanceInsights=If("PerformanceInsightsSupported", True, False),
            PerformanceInsightsRetentionPeriod=If("PerformanceInsightsSupported", 7, NoValue),
            Metadata={
                **checkov.skip("CKV_AWS_118", *([] if spec.multi_az else ["CKV_AWS_157"])),
                **_CFN_LINT_MAJOR_VERSION,
            },
            # troposphere's check caps Iops at 50 per GiB (io1's ratio) for io2 too, which allows 1,000;
            # the spec's storage rules (catalog.STORAGE_RULES) check every storage type instead.
            validation=spec.storage_type != "io2",
            DeletionPolicy=DELETION_POLICY,
            UpdateReplacePolicy=DELETION_POLICY,
        )
    )
    return Database(instance=instance)
