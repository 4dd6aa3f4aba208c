"""Shared fixtures: the rendered benchmark template, parsed once per session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import BenchmarkSpec, SpecError, parse_spec_text
from litellm_bench_cfn.template import build_template

REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests (tests/test_properties.py): `ci` is deterministic (derandomized, no example
# database) with each test's own small example count; HYPOTHESIS_PROFILE=thorough draws 25x as
# many with fresh random seeds.
_PROFILE_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_PROFILE_SETTINGS)
settings.register_profile("thorough", derandomize=False, database=None, print_blob=True, **_PROFILE_SETTINGS)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)


def example_count(ci: int) -> int:
    """Examples per property test: `ci` in CI, 25x that in the thorough profile."""
    return ci * 25 if HYPOTHESIS_PROFILE == "thorough" else ci


BENCHMARK_TEMPLATE = REPO_ROOT / "templates" / "cloudformation-ecs.yaml"


def render_dict(spec: BenchmarkSpec) -> dict[str, Any]:
    return yaml.safe_load(to_yaml(build_template(spec)))


def errors_of(text: str) -> list[str]:
    """The lines of the SpecError that parsing spec `text` raises (the test fails when it parses)."""
    with pytest.raises(SpecError) as caught:
        parse_spec_text(text)
    return caught.value.lines


@pytest.fixture(scope="session")
def benchmark_template() -> dict[str, Any]:
    return yaml.safe_load(BENCHMARK_TEMPLATE.read_text())


@pytest.fixture(scope="session")
def resources(benchmark_template: dict[str, Any]) -> dict[str, Any]:
    return benchmark_template["Resources"]


def require_modules(*names: str) -> None:
    """Skip the calling test module when a tool is not installed, but fail in CI, where
    scripts/bootstrap.sh installs everything. Never imports them: importing locust here would
    monkey-patch this process with gevent."""
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if not missing:
        return
    message = f"not installed: {', '.join(missing)} (run scripts/bootstrap.sh)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
