"""The spec: defaults are the published benchmark; every rule rejects with field.path and a fix."""

from __future__ import annotations

import pytest

from litellm_bench_cfn.spec import BenchmarkSpec, parse_spec_text

from .conftest import errors_of


def test_defaults_are_the_published_benchmark() -> None:
    spec = BenchmarkSpec()
    assert (spec.tasks.desired_count, spec.tasks.cpu, spec.tasks.memory, spec.litellm.workers) == (4, 4096, 8192, 4)
    assert spec.litellm.port == 4000
    assert spec.litellm.proxy_batch_write_at == 60 and spec.litellm.store_model_in_db
    model = spec.litellm.models[0]
    assert (model.model_name, model.litellm_params.model, model.litellm_params.api_key) == (
        "fake-openai-endpoint",
        "openai/any",
        "test",
    )
    db = spec.database
    assert (db.instance_class, db.allocated_storage_gib, db.storage_type, db.backup_retention_days) == (
        "db.r6g.xlarge",
        200,
        "gp3",
        7,
    )
    assert db.engine_version == "16"  # the major: RDS creates a supported minor (versions.py)
    assert spec.network.public_subnets == ("10.0.1.0/24", "10.0.2.0/24")
    assert spec.network.private_subnets == ("10.0.11.0/24", "10.0.12.0/24")
    hc = spec.load_balancer.health_check
    assert (hc.path, hc.interval_s, hc.healthy_threshold, hc.unhealthy_threshold) == ("/health/readiness", 30, 2, 3)
    assert spec.container_health_check.path == "/health/liveliness"
    assert spec.observability.log_retention_days == 7
    assert (spec.scaling.min_tasks, spec.scaling.max_tasks, spec.scaling.cpu_target_percent) == (2, 10, 70)


def test_empty_spec_text_means_defaults() -> None:
    assert parse_spec_text("") == BenchmarkSpec()


def test_bad_fargate_pair_names_memory_and_the_choices() -> None:
    assert errors_of("tasks: {cpu: 4096, memory: 4096}") == [
        "tasks.memory: 4096 MiB is not valid with 4096 CPU units on Fargate; choose 8192-30720 in 1024 MiB steps"
    ]


def test_unknown_key_is_an_error() -> None:
    assert errors_of("tasks: {cpus: 4}") == ["tasks.cpus: unknown key; check the spelling against the spec reference"]


# Spec text that breaks one rule: its one error line starts with the field and the problem, and names these too.
ONE_LINE_ERRORS = [
    pytest.param(
        "database: {allocated_storage_gib: lots}",
        "database.allocated_storage_gib: Input should be a valid integer",
        ["'lots'"],
        id="wrong_type_is_one_line",
    ),
    pytest.param("tasks: {cpu: 3000}", "tasks.cpu: 3000 is not allowed", ["4096"], id="cpu_not_a_fargate_value"),
    pytest.param(
        "litellm: {database_connection_pool_limit: 50}\nscaling: {enabled: true}",
        "litellm.database_connection_pool_limit: 20 tasks (a rolling deployment runs 200% of scaling.max_tasks 10) "
        "x 4 workers x 50 = 4000",
        ["use at most 5"],
        id="pool_budget_over_max_connections_counts_a_rolling_deployment_at_the_maximum",
    ),
    pytest.param(
        "litellm: {database_connection_pool_limit: 50}",
        "litellm.database_connection_pool_limit: 8 tasks (a rolling deployment runs 200% of 4) x 4 workers x 50 = 1600",
        ["use at most 14"],
        id="pool_budget_of_a_fixed_fleet_counts_a_rolling_deployment",
    ),
    pytest.param(
        "litellm: {workers: 64}\nscaling: {enabled: true, max_tasks: 10}\ndatabase: {max_connections: 300}",
        "database.max_connections: 20 tasks (a rolling deployment runs 200% of scaling.max_tasks 10) x 64 workers "
        "need at least one connection each",
        [],
        id="workers_that_cannot_get_one_connection_each",
    ),
    pytest.param(
        "network: {vpc_cidr: 10.0.0.1/16}",
        "network.vpc_cidr: 10.0.0.1/16 has host bits set",
        [],
        id="host_bits_set_in_cidr",
    ),
    pytest.param(
        "database: {instance_class: db.x9.huge}",
        "database.instance_class: 'db.x9.huge' is not a known class; choose one of",
        [],
        id="unknown_db_class",
    ),
    pytest.param(
        "database: {instance_class: db.t3.micro, max_connections: 500, reserved_connections: 10}",
        "database.max_connections: 500 is more than db.t3.micro (1 GiB) can hold (~112)",
        [],
        id="max_connections_too_many_for_a_small_class",
    ),
    pytest.param(
        "tasks: {desired_count: 12}\nscaling: {enabled: true}",
        "tasks.desired_count: 12 is outside the autoscaling range 2-10",
        [],
        id="desired_count_outside_scaling_range",
    ),
    pytest.param(
        "litellm: {log_level: DEBUG}", "litellm.log_level: 'DEBUG' is not allowed", [], id="debug_log_level_is_refused"
    ),
]


@pytest.mark.parametrize(("text", "start", "also_named"), ONE_LINE_ERRORS)
def test_a_broken_rule_is_one_error_line(text: str, start: str, also_named: list[str]) -> None:
    (line,) = errors_of(text)
    assert line.startswith(start), line
    assert all(part in line for part in also_named), line


def test_derived_pool_limit_fits_the_budget() -> None:
    spec = BenchmarkSpec.model_validate({"scaling": {"enabled": True}})
    assert spec.pool_limit == (500 - 50) // (2 * 10 * 4)  # 10 tasks at most, twice over while a deployment rolls
    assert 2 * spec.scaling.max_tasks * spec.litellm.workers * spec.pool_limit <= spec.db_connection_budget


def test_derived_pool_limit_of_a_fixed_fleet_is_sized_for_its_real_task_count() -> None:
    """4 fixed tasks, twice over during a rolling deployment: 8 x 4 workers share 450 connections."""
    spec = BenchmarkSpec()
    assert spec.pool_limit == (500 - 50) // (8 * 4)
    assert 2 * spec.tasks.desired_count * spec.litellm.workers * spec.pool_limit <= spec.db_connection_budget


def test_overlapping_subnets() -> None:
    lines = errors_of("network: {private_subnets: [10.0.1.128/25, 10.0.12.0/24]}")
    assert lines == [
        "network.private_subnets.0: 10.0.1.128/25 overlaps network.public_subnets.0 (10.0.1.0/24); "
        "subnets must not overlap"
    ]


def test_subnet_outside_vpc() -> None:
    (line,) = errors_of("network: {public_subnets: [10.1.1.0/24, 10.0.2.0/24]}")
    assert line == "network.public_subnets.0: 10.1.1.0/24 is not inside the VPC 10.0.0.0/16; pick a range within it"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("database: {iops: 3000}", "database.iops: gp3 below 400 GiB has a fixed baseline of 3000 IOPS"),
        ("database: {storage_throughput_mibps: 125}", "database.storage_throughput_mibps: gp3 below 400 GiB"),
        ("database: {allocated_storage_gib: 500, iops: 8000}", "database.iops: 8000 is outside 12000-64000"),
        (
            "database: {allocated_storage_gib: 500, iops: 12000, storage_throughput_mibps: 4000}",
            "database.storage_throughput_mibps: 4000 MiB/s needs at least 16000 IOPS",
        ),
        (
            "database: {allocated_storage_gib: 500, storage_throughput_mibps: 600}",
            "database.storage_throughput_mibps: set database.iops too",
        ),
        ("database: {storage_type: io1, allocated_storage_gib: 50, iops: 1000}", "database.allocated_storage_gib: 50"),
        ("database: {storage_type: io1}", "database.iops: io1 storage needs provisioned IOPS"),
        ("database: {storage_type: io1, iops: 20000}", "database.iops: 20000 IOPS on 200 GiB is outside 0.5-50"),
        ("database: {storage_type: gp2, iops: 1000}", "database.iops: gp2 storage takes no provisioned IOPS"),
    ],
)
def test_rds_storage_rules(text: str, expected: str) -> None:
    lines = errors_of(text)
    assert any(line.startswith(expected) for line in lines), lines


def test_gp3_provisioned_at_400_gib_is_valid() -> None:
    spec = parse_spec_text("database: {allocated_storage_gib: 400, iops: 12000, storage_throughput_mibps: 500}")
    assert spec.database.iops == 12000


def test_min_above_max() -> None:
    (line,) = errors_of("scaling: {enabled: true, min_tasks: 5, max_tasks: 3}\ntasks: {desired_count: 4}")
    assert line == "scaling.min_tasks: 5 is above scaling.max_tasks (3); lower it"


def test_autoscaling_bounds_without_autoscaling_are_refused() -> None:
    lines = errors_of("scaling: {min_tasks: 1, max_tasks: 20}")
    assert lines == [
        f"scaling.{name}: has no effect with scaling.enabled false (a fixed fleet of tasks.desired_count); "
        "remove it or set scaling.enabled: true"
        for name in ("max_tasks", "min_tasks")
    ]


def test_a_fixed_fleet_takes_any_task_count() -> None:
    assert BenchmarkSpec.model_validate({"tasks": {"desired_count": 12}}).most_tasks == 12


def test_health_paths_refuse_slash_health() -> None:
    lines = errors_of("load_balancer: {health_check: {path: /health}}")
    assert lines == ["load_balancer.health_check.path: /health calls the real LLMs; use /health/readiness"]


def test_log_retention_must_be_a_cloudwatch_value() -> None:
    assert errors_of("observability: {log_retention_days: 10}") == [
        "observability.log_retention_days: 10 is not a CloudWatch Logs retention; try 7"
    ]


def test_several_problems_are_all_reported() -> None:
    lines = errors_of("tasks: {cpu: 4096, memory: 4096}\nobservability: {log_retention_days: 10}")
    assert [line.split(":")[0] for line in lines] == ["tasks.memory", "observability.log_retention_days"]


def test_not_a_mapping() -> None:
    assert errors_of("- a\n- b") == ["<spec>: the spec must be a mapping of keys to values, not list"]


def test_json_spec_is_accepted() -> None:
    assert parse_spec_text('{"tasks": {"desired_count": 2}}').tasks.desired_count == 2


def test_spec_is_frozen() -> None:
    spec = BenchmarkSpec()
    with pytest.raises(ValueError):
        spec.tasks.cpu = 1024  # type: ignore[misc]


def test_default_keepalive_outlives_the_load_balancers_idle_timeout() -> None:
    spec = BenchmarkSpec()
    assert (spec.litellm.server, spec.litellm.keepalive_timeout_s) == ("uvicorn", 75)
    assert spec.litellm.keepalive_timeout_s > spec.load_balancer.idle_timeout_s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "litellm: {keepalive_timeout_s: 60}",
            "litellm.keepalive_timeout_s: 60 s does not exceed load_balancer.idle_timeout_s (60 s): the ALB would "
            "reuse connections the proxy closed (502); set it above 60, e.g. 75",
        ),
        (
            "load_balancer: {idle_timeout_s: 120}",
            "litellm.keepalive_timeout_s: 75 s does not exceed load_balancer.idle_timeout_s (120 s): the ALB would "
            "reuse connections the proxy closed (502); set it above 120, e.g. 135",
        ),
        (
            "litellm: {server: gunicorn, keepalive_timeout_s: 300}",
            "litellm.server: gunicorn closes idle connections after 2 s (LiteLLM 1.106.2 does not pass "
            "--keepalive_timeout to it), under load_balancer.idle_timeout_s (60 s): the ALB would reuse "
            "connections the proxy closed (502); use uvicorn",
        ),
    ],
)
def test_keepalive_not_above_the_load_balancers_idle_timeout_is_refused(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_keepalive_just_above_the_idle_timeout_is_accepted() -> None:
    spec = parse_spec_text("litellm: {keepalive_timeout_s: 31}\nload_balancer: {idle_timeout_s: 30}")
    assert spec.litellm.keepalive_timeout_s == 31
