"""The CLI as a user runs it: exit codes, one line per problem, no traceback, drift detection."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_validate_accepts_the_benchmark_profile() -> None:
    result = run_cli("validate", "profiles/benchmark.yaml")
    assert result.returncode == 0, result.stderr
    assert "valid (benchmark: 4 tasks x 4096 CPU / 8192 MiB, 4 workers" in result.stdout


def test_validate_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "tasks: {cpu: 4096, memory: 4096}\n"
        "litellm: {database_connection_pool_limit: 50}\n"
        "network: {private_subnets: [10.0.1.0/24, 10.0.12.0/24]}\n"
        "database: {iops: 3000}\n"
    )
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "tasks.memory",
        "network.private_subnets.0",
        "database.iops",
        "litellm.database_connection_pool_limit",
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_validate_reports_unknown_key_and_wrong_type(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tasks": {"desired_count": "four"}, "colour": "blue"}')
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tasks.desired_count: Input should be a valid integer, unable to parse string as an integer (got 'four')",
        "colour: unknown key; check the spelling against the spec reference",
    ]


def test_validate_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "cannot read the spec (No such file or directory)" in result.stderr


def test_render_with_invalid_spec_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: {cpu: 256, memory: 8192}\n")
    result = run_cli("render", "--spec", str(bad), "--out-dir", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr.startswith("tasks.memory: 8192 MiB is not valid with 256")
    assert not (tmp_path / "out").exists()


def test_render_check_passes_on_the_repository() -> None:
    result = run_cli("render", "--check")
    assert result.returncode == 0, result.stderr


def test_render_check_names_the_drifted_file(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "profiles", tmp_path / "profiles")
    shutil.copytree(REPO_ROOT / "templates", tmp_path / "templates")
    target = tmp_path / "templates" / "cloudformation-ecs.yaml"
    target.write_text(target.read_text().replace("db.r6g.xlarge", "db.r6g.large", 1))
    result = run_cli("render", "--check", cwd=tmp_path)
    assert result.returncode == 1
    assert "templates/cloudformation-ecs.yaml: differs from a fresh render" in result.stderr


def test_render_user_profile_to_its_own_template(tmp_path: Path) -> None:
    spec = tmp_path / "mine.yaml"
    spec.write_text("name: mine\ntasks: {desired_count: 2}\n")
    result = run_cli("render", "--spec", str(spec), "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "DesiredTaskCount" in (tmp_path / "cloudformation-ecs-mine.yaml").read_text()
