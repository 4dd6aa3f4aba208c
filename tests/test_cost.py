"""`cost`: the dated price table, per-component arithmetic, the benchmark run, the CLI."""

from __future__ import annotations

import re

import pytest

from litellm_bench_cfn import catalog, cost
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.spec import BenchmarkSpec, parse_spec_text

from .conftest import REPO_ROOT

PRICES = cost.load_prices()


def _by_name(est: cost.Estimate) -> dict[str, cost.Component]:
    return {c.name: c for c in est.components}


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1"])
def test_every_region_is_dated_sourced_and_prices_every_db_class(region: str) -> None:
    table = PRICES["regions"][region]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["date"]) and table["source"]
    assert set(catalog.DB_INSTANCE_CLASSES) <= set(table["rds_postgres"]["instance_hour"])


def test_fargate_is_vcpu_and_gb_hours_at_desired_count() -> None:
    parts = _by_name(cost.estimate(BenchmarkSpec()))
    fargate = PRICES["regions"]["us-east-1"]["fargate"]
    assert parts["Fargate vCPU"].hourly == pytest.approx(4 * 4 * fargate["vcpu_hour"])
    assert parts["Fargate memory"].hourly == pytest.approx(4 * 8 * fargate["gb_hour"])


def test_multi_az_doubles_instance_and_storage() -> None:
    single = _by_name(cost.estimate(BenchmarkSpec()))
    multi = _by_name(cost.estimate(parse_spec_text("database: {multi_az: true}")))
    assert multi["RDS instance"].hourly == pytest.approx(2 * single["RDS instance"].hourly)
    assert multi["RDS storage"].hourly == pytest.approx(2 * single["RDS storage"].hourly)


def test_gp3_baseline_iops_cost_nothing_extra_but_provisioned_ones_do() -> None:
    assert "RDS gp3 IOPS" not in _by_name(cost.estimate(BenchmarkSpec()))
    spec = parse_spec_text("database: {allocated_storage_gib: 400, iops: 15000, storage_throughput_mibps: 600}")
    parts = _by_name(cost.estimate(spec))
    rds = PRICES["regions"]["us-east-1"]["rds_postgres"]
    assert parts["RDS gp3 IOPS"].monthly == pytest.approx(3000 * rds["gp3_iops_month"])
    assert parts["RDS gp3 throughput"].monthly == pytest.approx(100 * rds["gp3_mibps_month"])


def test_month_is_730_hours_and_hours_scales_the_period() -> None:
    est = cost.estimate(BenchmarkSpec(), hours=10)
    assert est.monthly == pytest.approx(est.hourly * 730)
    assert est.period == pytest.approx(est.hourly * 10)


def test_benchmark_monthly_is_on_demand_list_price_range() -> None:
    """Seeds say ~$600-620 at discounted rates; on-demand list prices give ~$1,000 (docs/cost.md)."""
    assert 950 <= cost.estimate(BenchmarkSpec()).monthly <= 1050


def test_dev_is_far_cheaper_than_benchmark() -> None:
    from litellm_bench_cfn.spec import load_spec

    dev = cost.estimate(load_spec(REPO_ROOT / "profiles" / "dev.yaml"))
    assert dev.monthly < 0.3 * cost.estimate(BenchmarkSpec()).monthly


def test_eu_west_1_costs_more_than_us_east_1() -> None:
    assert cost.estimate(BenchmarkSpec(), region="eu-west-1").monthly > cost.estimate(BenchmarkSpec()).monthly


def test_unknown_region_is_a_pricing_error() -> None:
    with pytest.raises(cost.PricingError, match="known: eu-west-1, us-east-1, us-west-2"):
        cost.estimate(BenchmarkSpec(), region="mars-1")


def test_run_bills_rds_at_least_ten_minutes() -> None:
    est = cost.estimate(BenchmarkSpec(), run=cost.RunAssumptions(create_min=1, delete_min=1))
    rds = next(i for i in est.run_items if i.name == "RDS instance")
    assert rds.cost == pytest.approx(
        PRICES["regions"]["us-east-1"]["rds_postgres"]["instance_hour"]["db.r6g.xlarge"] * 10 / 60
    )


def test_run_bills_fargate_for_the_stack_lifetime() -> None:
    est = cost.estimate(BenchmarkSpec())
    vcpu = next(i for i in est.run_items if i.name == "Fargate vCPU")
    assert vcpu.cost == pytest.approx(_by_name(est)["Fargate vCPU"].hourly * 45 / 60)


def test_redis_is_priced_only_when_the_spec_has_it() -> None:
    class Redis:
        enabled = True
        node_type = "cache.r7g.large"
        replicas = 1

    class WithRedis:
        redis = Redis()

    assert cost.redis_nodes(BenchmarkSpec()) is None
    assert cost.redis_nodes(WithRedis()) == cost.RedisNodes("cache.r7g.large", 2)  # type: ignore[arg-type]


def test_load_generator_is_optional() -> None:
    assert "Load generator" not in _by_name(cost.estimate(BenchmarkSpec()))
    assert "Load generator" in _by_name(cost.estimate(BenchmarkSpec(), load_generator=cost.LoadGenerator()))


def test_cli_prints_region_date_and_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert main(["cost", "benchmark", "--region", "eu-west-1"]) == 0
    out = capsys.readouterr().out
    assert "in eu-west-1, on-demand prices as of 2026-11-23" in out
    assert "One benchmark run: stack up 25 min create + 5 min load test + 15 min delete = 45 min" in out


def test_cli_unknown_profile_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert main(["cost", "nosuch"]) == 2
    assert "neither a spec file nor a profile" in capsys.readouterr().err


def test_spec_redis_section_adds_primary_and_replicas() -> None:
    spec = parse_spec_text("redis: {enabled: true, node_type: cache.r7g.large, replicas: 1}")
    redis = _by_name(cost.estimate(spec))["ElastiCache Redis"]
    assert redis.hourly == pytest.approx(2 * PRICES["regions"]["us-east-1"]["elasticache_node_hour"]["cache.r7g.large"])
