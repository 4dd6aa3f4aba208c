"""Shared fixtures: the rendered benchmark template, parsed once per session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.render import to_yaml
from litellm_bench_cfn.spec import BenchmarkSpec
from litellm_bench_cfn.template import build_template

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARK_TEMPLATE = REPO_ROOT / "templates" / "cloudformation-ecs.yaml"


def render_dict(spec: BenchmarkSpec) -> dict[str, Any]:
    return yaml.safe_load(to_yaml(build_template(spec)))


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
