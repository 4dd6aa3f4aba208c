"""`compliance`: the benchmark template and profile comply; a smaller spec does not; the doc stays in sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from litellm_bench_cfn import compliance
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.spec import BenchmarkSpec, parse_spec_text

from .conftest import REPO_ROOT, render_dict

DOC = "docs/benchmark-compliance.md"
TEMPLATE = "templates/cloudformation-ecs.yaml"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def _rows(spec: BenchmarkSpec) -> dict[str, compliance.Row]:
    facts = compliance.facts_from_template(render_dict(spec))
    return {f"{r.section}/{r.requirement}": r for r in compliance.check(facts, (0.5, 1.0))}


def test_benchmark_template_complies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", TEMPLATE]) == 0
    assert "COMPLIANT: every required row" in capsys.readouterr().out


def test_benchmark_profile_complies() -> None:
    assert main(["compliance", "profiles/benchmark.yaml"]) == 0


def test_dev_profile_does_not_comply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", "profiles/dev.yaml"]) == 1
    assert "NOT COMPLIANT" in capsys.readouterr().out


def test_non_compliant_spec_exits_1_and_names_the_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text("database: {instance_class: db.t3.medium, max_connections: 400}\nload_test: {users: 10}\n")
    assert main(["compliance", str(spec)]) == 1
    verdict = capsys.readouterr().out.strip().splitlines()[-1]
    assert verdict.startswith("NOT COMPLIANT: 3 required row(s)")
    assert "Database/CPU cores" in verdict and "Database/RAM" in verdict and "Concurrent users" in verdict


def test_db_ram_above_the_guide_exceeds() -> None:
    assert _rows(BenchmarkSpec())["Database/RAM"].status == "EXCEEDS"


def test_model_param_other_than_openai_any_differs() -> None:
    spec = parse_spec_text("litellm: {models: [{litellm_params: {model: openai/fake}}]}")
    row = _rows(spec)["Model configuration/Model param"]
    assert (row.found, row.status) == ("openai/fake", "DIFFERS")


def test_api_base_reports_the_stack_parameter_default() -> None:
    # Default InVpcFakeEndpoint=true: the harness stack's fake endpoint inside the VPC (issue #7).
    row = _rows(BenchmarkSpec())["Model configuration/API base"]
    assert "os.environ/BENCHMARK_API_BASE (default http://fake-openai.bench.internal:8080/)" in row.found
    assert row.status == "MATCH"


def test_api_base_without_the_harness_is_the_guides_public_endpoint() -> None:
    row = _rows(parse_spec_text("harness: {enabled: false}"))["Model configuration/API base"]
    assert "os.environ/BENCHMARK_API_BASE (default https://exampleopenaiendpoint" in row.found


def test_batch_write_interval_other_than_60_differs() -> None:
    rows = _rows(parse_spec_text("litellm: {proxy_batch_write_at: 10}"))
    assert rows["Configuration settings/proxy_batch_write_at"].status == "DIFFERS"


def test_wait_time_is_read_from_the_locustfile(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text("class U:\n    wait_time = between(0.1, 0.5)\n")
    assert compliance.locust_wait_time(locustfile) == (0.1, 0.5)
    assert main(["compliance", TEMPLATE, "--locustfile", str(locustfile)]) == 1


def test_optional_rows_never_fail() -> None:
    rows = compliance.check(compliance.facts_from_template(render_dict(BenchmarkSpec())), None)
    assert {r.status for r in rows if r.section == "Optional features"} == {"INFO"}
    assert compliance.is_compliant(rows)


def test_short_form_template_is_read(tmp_path: Path) -> None:
    text = (
        (REPO_ROOT / TEMPLATE)
        .read_text()
        .replace("DBInstanceClass:\n        Ref: DBInstanceClass", "DBInstanceClass: !Ref DBInstanceClass")
    )
    assert "!Ref DBInstanceClass" in text
    facts, kind = compliance.facts_from_text(text, "t.yaml")
    assert (kind, facts.db_class) == ("template", "db.r6g.xlarge")


def test_load_shape_is_read_from_the_template_metadata_not_the_load_test_command() -> None:
    """The shape travels in Metadata; the LoadTestCommand output is text for people and may change or go."""
    template = render_dict(parse_spec_text("load_test: {users: 1200, spawn_rate: 40, duration_s: 600}"))
    del template["Outputs"]["LoadTestCommand"]
    load_test = compliance.facts_from_template(template).load_test
    assert (load_test.users, load_test.spawn_rate, load_test.duration_s) == (1200, 40.0, 600)
    del template["Metadata"]["LitellmBenchCfn"]
    assert compliance.facts_from_template(template).load_test == compliance.LoadTest(None, None, None)


def test_committed_doc_is_up_to_date() -> None:
    assert main(["compliance", TEMPLATE, "--markdown", "--check", DOC]) == 0


def test_drift_check_fails_when_the_doc_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "compliance.md"
    shutil.copy(REPO_ROOT / DOC, stale)
    stale.write_text(stale.read_text().replace("| EXCEEDS |", "| MATCH |"))
    assert main(["compliance", TEMPLATE, "--markdown", "--check", str(stale)]) == 1
    assert "differs from a fresh report" in capsys.readouterr().err


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_redis_in_the_spec_is_reported_as_configured() -> None:
    rows = _rows(parse_spec_text("redis: {enabled: true}"))
    assert rows["Optional features/Redis cache"].found == "configured"
    assert rows["Optional features/Redis cache"].status == "INFO"
