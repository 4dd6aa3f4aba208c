"""Profiles: dev, benchmark and production are valid specs, each rendered to its own committed template."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import load_spec
from litellm_bench_cfn.template import build_template

from .conftest import REPO_ROOT

PROFILES = REPO_ROOT / "profiles"
TEMPLATES = REPO_ROOT / "templates"


def _template(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((TEMPLATES / f"cloudformation-ecs-{name}.yaml").read_text())


def test_profiles_directory_holds_benchmark_dev_production_high_throughput_and_the_provider_example() -> None:
    names = sorted(p.spec.name for p in load_profiles(PROFILES))
    assert names == ["benchmark", "dev", "high-throughput", "production", "provider-example"]


@pytest.mark.parametrize("name", ["benchmark", "dev", "production"])
def test_committed_template_is_a_fresh_render_of_its_profile(name: str) -> None:
    profile = next(p for p in load_profiles(PROFILES) if p.spec.name == name)
    committed = (TEMPLATES / profile.template_name).read_text(encoding="utf-8")
    assert committed == to_yaml(build_template(profile.spec))


def test_dev_is_seed_003_lower_cost_sizing() -> None:
    spec = load_spec(PROFILES / "dev.yaml")
    assert (spec.tasks.desired_count, spec.tasks.cpu, spec.tasks.memory) == (2, 2048, 4096)
    assert spec.database.instance_class in {"db.t3.micro", "db.t4g.micro"}
    assert spec.database.multi_az is False


def test_dev_connection_budget_fits_the_micro_db() -> None:
    spec = load_spec(PROFILES / "dev.yaml")
    assert spec.database.max_connections <= spec.database.instance.default_max_connections
    used = 2 * spec.scaling.max_tasks * spec.litellm.workers * spec.pool_limit  # a rolling deployment at the max
    assert used <= spec.db_connection_budget


def test_dev_template_database_is_single_az_micro() -> None:
    db = _template("dev")["Resources"]["Database"]["Properties"]
    params = _template("dev")["Parameters"]
    assert db["MultiAZ"] is False and params["DBInstanceClass"]["Default"] == "db.t3.micro"
    assert params["DesiredTaskCount"]["Default"] == 2 and params["TaskCpu"]["Default"] == 2048


def test_production_template_is_multi_az_with_deletion_protection() -> None:
    db = _template("production")["Resources"]["Database"]["Properties"]
    assert db["MultiAZ"] is True and db["DeletionProtection"] is True
    assert _template("production")["Parameters"]["DesiredTaskCount"]["Default"] == 8


def test_production_database_is_r6g_large_or_larger() -> None:
    spec = load_spec(PROFILES / "production.yaml")
    assert spec.database.instance_class.startswith(("db.r6g.", "db.r7g."))
    assert spec.database.instance.memory_gib >= 16


def test_a_user_profile_renders_with_one_command(tmp_path: Path) -> None:
    from litellm_bench_cfn.cli import main

    spec = tmp_path / "mine.yaml"
    spec.write_text("name: mine\ntasks: {desired_count: 3}\n")
    assert main(["render", "--spec", str(spec), "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "cloudformation-ecs-mine.yaml").is_file()
