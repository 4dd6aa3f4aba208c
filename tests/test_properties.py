"""Property-based tests over the whole spec space (issue #14), drawn by tests/strategies.py.

Valid specs: every one renders twice byte-identical, is cfn-lint clean, and is consistent (console
metadata names only parameters the template has and labels every one; every `os.environ/NAME` in
the LiteLLM config is set by the task; the execution role reads exactly the secrets the task
injects; no literal key anywhere). Invalid specs (a valid one with rules broken): the CLI exits 2
with one `field: problem` line per problem, every broken rule at once, never a traceback.

Example counts come from the hypothesis profile (tests/conftest.py): `ci` (default, derandomized,
no example database) keeps this file to about two minutes on a loaded 2-core machine;
`HYPOTHESIS_PROFILE=thorough` runs many more with random seeds.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from hypothesis import given, note, settings
from hypothesis import strategies as st

from litellm_bench_cfn.aws.param_rules import check_parameters
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.harness.scripts import HarnessSources
from litellm_bench_cfn.harness.template import build_harness_template
from litellm_bench_cfn.profiles import load_profiles
from litellm_bench_cfn.proxy_config import CONFIG_ENV
from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import spec_to_json
from litellm_bench_cfn.template import build_template

from .conftest import REPO_ROOT, example_count
from .strategies import Mutation, Spec, broken_specs, parse, valid_specs

LINT = ManualArgs(regions=["us-east-1"])
LEAKED_KEY = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|AKIA[A-Z0-9]{16}|AIza[0-9A-Za-z_-]{20,})")
ERROR_LINE = re.compile(r"^[A-Za-z0-9_.<>-]+: \S")
HARNESS_SOURCES = HarnessSources.from_package()


def containers(template: dict[str, Any], resource: str = "ProxyTaskDefinition") -> list[dict[str, Any]]:
    return template["Resources"][resource]["Properties"]["ContainerDefinitions"]  # type: ignore[no-any-return]


def env_refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(env_refs(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(env_refs(v) for v in node)) if node else set()
    if isinstance(node, str) and node.startswith("os.environ/"):
        return {node.removeprefix("os.environ/")}
    return set()


def consistency_problems(spec_data: Spec, text: str) -> list[str]:
    """Every way the rendered template disagrees with itself or leaks a key."""
    template = yaml.safe_load(text)
    problems: list[str] = []
    params = set(template["Parameters"])
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [n for g in interface["ParameterGroups"] for n in g["Parameters"]]
    problems += [f"metadata groups unknown parameter {n}" for n in sorted(set(grouped) - params)]
    problems += [f"parameter {n} in no group" for n in sorted(params - set(grouped))]
    problems += [f"metadata labels unknown parameter {n}" for n in sorted(set(interface["ParameterLabels"]) - params)]
    problems += [f"parameter {n} has no label" for n in sorted(params - set(interface["ParameterLabels"]))]
    if len(template.get("Description", "").encode()) > 1024:
        problems.append("Description over 1,024 bytes")

    injected_arns: list[Any] = []
    for container in containers(template):
        names = [e["Name"] for e in container.get("Environment", [])]
        names += [s["Name"] for s in container.get("Secrets", [])]
        problems += [f"{container['Name']}: {n} set twice" for n in sorted({n for n in names if names.count(n) > 1})]
        injected_arns += [s["ValueFrom"] for s in container.get("Secrets", [])]
        config = next((e["Value"] for e in container.get("Environment", []) if e["Name"] == CONFIG_ENV), None)
        if config is not None:
            # The start script derives LITELLM_MASTER_KEY from the injected LITELLM_MASTER_KEY_SECRET.
            unset = env_refs(yaml.safe_load(config)) - set(names) - {"LITELLM_MASTER_KEY"}
            problems += [f"config reads os.environ/{n}, which the task does not set" for n in sorted(unset)]
    role = template["Resources"]["TaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    readable = [s["Resource"] for s in role["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    readable_arns = [arn for resources in readable for arn in resources]
    if sorted(map(json.dumps, readable_arns)) != sorted(set(map(json.dumps, injected_arns))):
        problems.append(f"execution role reads {readable_arns}, the task injects {injected_arns}")
    if any("*" in json.dumps(arn) for arn in readable_arns):
        problems.append("execution role reads secrets by wildcard")
    if LEAKED_KEY.search(text):
        problems.append(f"literal key in the template: {LEAKED_KEY.search(text)}")
    problems += connection_budget_problems(spec_data, template)
    return problems


def connection_budget_problems(spec_data: Spec, template: dict[str, Any]) -> list[str]:
    """The proxies' DB pools, read from the template, fit max_connections at the most tasks that can run
    at once: the largest DesiredTaskCount the template takes, times the rolling deployment's
    MaximumPercent (ECS starts the replacements before it stops the old tasks, at any scale)."""
    proxy = next(c for c in containers(template) if any(e["Name"] == CONFIG_ENV for e in c.get("Environment", [])))
    environment = {e["Name"]: e["Value"] for e in proxy["Environment"]}
    general = yaml.safe_load(environment[CONFIG_ENV]).get("general_settings", {})
    pool, workers = general.get("database_connection_pool_limit"), environment["NUM_WORKERS"]
    if isinstance(workers, dict):  # a Ref to the console's parameter: the most it takes
        workers = template["Parameters"][workers["Ref"]]["MaxValue"]
    workers = int(workers)
    database = spec_data.get("database", {})
    if pool is None or spec_data.get("high_throughput", {}).get("pgbouncer"):
        return []  # PgBouncer caps each task's connections: the spec rule checks that budget
    resources = template["Resources"]
    max_connections = int(resources["DatabaseParameterGroup"]["Properties"]["Parameters"]["max_connections"])
    service = resources["ProxyService"]["Properties"]
    at_once = (
        int(template["Parameters"]["DesiredTaskCount"]["MaxValue"])
        * service["DeploymentConfiguration"]["MaximumPercent"]
        // 100
    )
    if "MaxTaskCount" in template["Parameters"]:
        at_once = max(at_once, int(template["Parameters"]["MaxTaskCount"]["MaxValue"]) * service[
            "DeploymentConfiguration"]["MaximumPercent"] // 100)  # fmt: skip
    needed = pool * workers * at_once + int(database.get("reserved_connections", 50))
    if needed > max_connections:
        return [f"{at_once} tasks x {workers} workers x pool {pool} + reserved = {needed} > max_connections "
                f"{max_connections}"]  # fmt: skip
    return []


def lint_problems(text: str) -> list[str]:
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint(text, config=LINT)]


def test_the_shipped_profiles_pools_fit_the_database_during_a_deployment_at_full_scale() -> None:
    for profile in load_profiles(REPO_ROOT / "profiles"):
        data = yaml.safe_load(profile.source.read_text()) if profile.source else {}
        text = to_yaml(build_template(profile.spec))
        assert connection_budget_problems(data, yaml.safe_load(text)) == [], profile.source


@settings(max_examples=example_count(20))
@given(valid_specs())
def test_every_valid_spec_renders_a_stable_consistent_lint_clean_template(data: Spec) -> None:
    spec = parse(data)
    assert parse(json.loads(spec_to_json(spec))) == spec, "`validate --show` output does not read back"
    text = to_yaml(build_template(spec))
    assert to_yaml(build_template(parse(data))) == text, "two renders of one spec differ"
    note(f"{len(text.encode())} bytes")
    assert consistency_problems(data, text) == []
    assert lint_problems(text) == []
    template = yaml.safe_load(text)
    assert check_parameters(template, {}) == [], "the defaults fail the template's own constraints or Rules"
    if spec.harness.enabled:
        harness = to_yaml(build_harness_template(spec, HARNESS_SOURCES))
        assert to_yaml(build_harness_template(parse(data), HARNESS_SOURCES)) == harness
        assert lint_problems(harness) == []


@settings(max_examples=example_count(40))
@given(valid_specs(), st.data())
def test_task_count_rules_agree_with_min_le_desired_le_max(data: Spec, draw: st.DataObject) -> None:
    """The Rules and parameter bounds, evaluated with CloudFormation's semantics (check-params), accept
    exactly the count triples min <= desired <= max within the parameters' bounds (desired no lower
    than the bandwidth needs), and refuse non-integers. A fixed fleet has DesiredTaskCount only."""
    spec = parse(data)
    template = yaml.safe_load(to_yaml(build_template(spec)))
    names = ["MinTaskCount", "DesiredTaskCount", "MaxTaskCount"] if spec.scaling.enabled else ["DesiredTaskCount"]
    assert [n for n in ("MinTaskCount", "DesiredTaskCount", "MaxTaskCount") if n in template["Parameters"]] == names
    top = int(template["Parameters"]["DesiredTaskCount"]["MaxValue"])
    assert top == spec.most_tasks
    counts = st.integers(1, top)
    for _ in range(20):
        low, desired, high = draw.draw(counts), draw.draw(counts), draw.draw(counts)
        if spec.scaling.enabled:
            values = {"MinTaskCount": str(low), "DesiredTaskCount": str(desired), "MaxTaskCount": str(high)}
            accepted = low <= desired <= high
        else:
            values, accepted = {"DesiredTaskCount": str(desired)}, True
        accepted = accepted and desired >= spec.fewest_tasks_for_bandwidth
        assert (check_parameters(template, values) == []) == accepted, values
    odd = draw.draw(st.sampled_from(["1.5", "02", "1e1", "2.0"]))
    name = draw.draw(st.sampled_from(names))
    assert check_parameters(template, {name: odd}) != [], (name, odd)


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def assert_refused(code: int, out: str, err: str, broken: list[Mutation]) -> None:
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and out == ""
    assert lines and all(ERROR_LINE.match(line) for line in lines), lines
    reported = {line.split(": ", 1)[0] for line in lines}
    missing = [m.field for m in broken if m.field not in reported]
    assert missing == [], f"broken but not reported: {missing}; got {lines}"


@settings(max_examples=example_count(60))
@given(broken_specs())
def test_every_broken_rule_is_reported_at_once_in_one_line_each(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[Spec, list[Mutation]]
) -> None:
    data, broken = case
    note(", ".join(m.name for m in broken))
    path = tmp_path_factory.mktemp("spec") / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert_refused(*run_main("validate", str(path)), broken)
    out_dir = path.parent / "out"
    assert_refused(*run_main("render", "--spec", str(path), "--out-dir", str(out_dir)), broken)
    assert not out_dir.exists()


def test_the_cli_refuses_a_broken_spec_in_a_subprocess(tmp_path: Path) -> None:
    """The same contract through the installed entry point: exit 2, one line per problem, no traceback."""
    path = tmp_path / "broken.yaml"
    path.write_text(
        "description: " + "x" * 1100 + "\n"
        "database: {engine_version: '15.19', storage_type: io2, allocated_storage_gib: 100, iops: 200000}\n"
        "alarms: {enabled: false}\n"
        "litellm: {models: [{model_name: gpt, litellm_params: {model: openai/gpt-4o, api_key: sk-live-0123456789}}]}\n"
    )
    for argv in (["validate", str(path)], ["render", "--spec", str(path), "--out-dir", str(tmp_path / "out")]):
        done = subprocess.run(
            [sys.executable, "-m", "litellm_bench_cfn.cli", *argv], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert [line.split(":")[0] for line in done.stderr.splitlines()] == [
            "database.iops",
            "description",
            "litellm.models.0.litellm_params.api_key",
        ]


RENDER_SNIPPET = """
import hashlib, json, sys
sys.path.insert(0, {tests!r})
from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import spec_to_json
from litellm_bench_cfn.spec import BenchmarkSpec
from litellm_bench_cfn.template import build_template
from litellm_bench_cfn.harness.scripts import HarnessSources
from litellm_bench_cfn.harness.template import build_harness_template
digests = []
for data in json.load(sys.stdin):
    spec = BenchmarkSpec.model_validate(data)
    text = to_yaml(build_template(spec))
    if spec.harness.enabled:
        text += to_yaml(build_harness_template(spec, HarnessSources.from_package()))
    digests.append(hashlib.sha256(text.encode()).hexdigest())
print(json.dumps(digests))
"""


def test_renders_are_identical_across_hash_seeds() -> None:
    """Set and dict iteration order depends on PYTHONHASHSEED for str keys: render the same specs in
    two interpreters with different seeds and compare digests."""
    examples = fixed_examples(6)
    digests = []
    for seed in ("1", "4242"):
        done = subprocess.run(
            [sys.executable, "-c", RENDER_SNIPPET.format(tests=str(REPO_ROOT))],
            input=json.dumps(examples),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr
        digests.append(json.loads(done.stdout))
    assert digests[0] == digests[1]


def fixed_examples(count: int) -> list[Spec]:
    """`count` valid specs, the same on every run (derandomized): the examples hypothesis draws."""
    found: list[Spec] = []

    @settings(max_examples=count, derandomize=True, database=None)
    @given(valid_specs())
    def collect(value: Spec) -> None:
        found.append(value)

    collect()
    return found[:count]


def test_strategies_reach_every_switch() -> None:
    """Guard against a strategy that silently stops drawing a branch: over a fixed sample every
    switch is drawn both ways and every storage type and model kind appears."""
    sample = fixed_examples(80)
    seen: dict[str, set[Any]] = {}
    for data in sample:
        spec = parse(data)
        for key, value in {
            "alarms": spec.alarms.enabled,
            "https": bool(spec.https.certificate_arn),
            "redis": spec.redis.enabled,
            "multi_az": spec.database.multi_az,
            "harness": spec.harness.enabled,
            "storage": spec.database.storage_type,
            "created secret": any(not s.arn for s in spec.provider_key_secrets),
            "existing secret": any(s.arn for s in spec.provider_key_secrets),
            "over 51,200 bytes": spec.scaling.enabled and spec.scaling.max_tasks > 23,
            "autoscaling": spec.scaling.enabled,
            "two NAT gateways": spec.network.nat_gateways == 2,
            "migrations in proxy": spec.migrations.mode == "in_proxy",
            "cooldowns disabled": spec.litellm.cooldowns_disabled,
            "pgbouncer": spec.high_throughput.pgbouncer,
            "spend collector": spec.high_throughput.spend_collector,
            "metrics port": spec.high_throughput.metrics_port is not None,
            "redis transaction buffer": spec.high_throughput.use_redis_transaction_buffer,
            "offered bandwidth": spec.high_throughput.offered_rps is not None,
            "surge below 200%": spec.rolling_maximum_percent < 200,
            "requests per target": spec.high_throughput.requests_per_target_per_s is not None,
        }.items():
            seen.setdefault(key, set()).add(value)
    assert seen["storage"] == {"gp2", "gp3", "io1", "io2"}
    assert all(len(v) == 2 for k, v in seen.items() if k != "storage"), seen


def test_a_fixed_sample_of_templates_is_policy_clean(tmp_path: Path) -> None:
    """checkov and cfn-guard (the security rules every template must pass) over a few random valid
    specs, as scripts/policy-check.sh runs them; skipped without `scripts/policy-check.sh --install`."""
    tools = REPO_ROOT / ".venv-checkov" / "bin"
    if not (tools / "checkov").exists() or not (tools / "cfn-guard").exists():
        pytest.skip("checkov/cfn-guard not installed: run scripts/policy-check.sh --install")
    for i, data in enumerate(fixed_examples(4)):
        (tmp_path / f"t{i}.yaml").write_text(to_yaml(build_template(parse(data))))
    guard = subprocess.run(
        [str(tools / "cfn-guard"), "validate", "-r", str(REPO_ROOT / "policy/guard/all"), "-d", str(tmp_path),
         "--show-summary", "fail"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert guard.returncode == 0, guard.stdout + guard.stderr
    config = yaml.safe_load((REPO_ROOT / "policy" / "checkov.yaml").read_text())
    config["directory"] = [str(tmp_path)]
    (tmp_path / "checkov.yaml").write_text(yaml.safe_dump(config))
    checkov = subprocess.run(
        [str(tools / "checkov"), "--config-file", str(tmp_path / "checkov.yaml")],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT,
    )  # fmt: skip
    assert checkov.returncode == 0, checkov.stdout[-4000:] + checkov.stderr[-2000:]
    assert re.search(r"Passed checks: [1-9]", checkov.stdout), checkov.stdout[-2000:]


def test_count_rules_hold_exhaustively_for_small_maxima() -> None:
    """Every triple for max_tasks 1-12 (the property test above samples larger ones)."""
    for top in range(1, 13):
        spec = parse({"tasks": {"desired_count": 1}, "scaling": {"enabled": True, "min_tasks": 1, "max_tasks": top},
                      "litellm": {"workers": 1}, "harness": {"enabled": False}})  # fmt: skip
        template = yaml.safe_load(to_yaml(build_template(spec)))
        for low, desired, high in itertools.product(range(1, top + 1), repeat=3):
            values = {"MinTaskCount": str(low), "DesiredTaskCount": str(desired), "MaxTaskCount": str(high)}
            assert (check_parameters(template, values) == []) == (low <= desired <= high), (top, values)


def test_a_fixed_fleet_takes_exactly_the_whole_counts_up_to_its_size() -> None:
    """A fixed fleet of 1-12 tasks: DesiredTaskCount takes 1..desired_count and nothing else."""
    for size in range(1, 13):
        spec = parse({"tasks": {"desired_count": size}, "litellm": {"workers": 1}, "harness": {"enabled": False}})
        template = yaml.safe_load(to_yaml(build_template(spec)))
        for value in [*map(str, range(0, size + 2)), "1.5", "01", f"{size}.0"]:
            accepted = value.isdigit() and not value.startswith("0") and 1 <= int(value) <= size
            assert (check_parameters(template, {"DesiredTaskCount": value}) == []) == accepted, (size, value)
