"""The built wheel works outside a checkout: `render` and `bench local --help` from another directory.

The wheel is installed with `pip install --no-deps --target` into a temporary directory that is the
only copy of litellm_bench_cfn on PYTHONPATH; the shared venv's interpreter supplies the dependencies
(troposphere, pydantic...), not the repository's src/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from litellm_bench_cfn.harness.scripts import LOCUST_CODE_ENV, decode_source

from .conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("wheel")
    # Built from a copy: no stale build/ of the checkout can supply files the package data misses.
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
         str(source)],
        cwd=root, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("litellm_bench_cfn-*.whl")
    site = root / "site"
    done = _run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], root, env
    )
    assert done.returncode == 0, done.stderr
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return elsewhere, {**env, "PYTHONPATH": str(site)}


def test_the_wheel_is_the_package_imported(installed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = installed
    done = _run([sys.executable, "-c", "import litellm_bench_cfn; print(litellm_bench_cfn.__file__)"], cwd, env)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(Path(env["PYTHONPATH"])), done.stdout


def test_render_from_the_wheel_matches_the_committed_templates(installed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = installed
    out = cwd / "templates"
    done = _run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "render", "--profiles-dir", str(REPO_ROOT / "profiles"),
         "--out-dir", str(out)],
        cwd, env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    committed = sorted(p.name for p in (REPO_ROOT / "templates").glob("*.yaml"))
    assert sorted(p.name for p in out.glob("*.yaml")) == committed
    for name in committed:
        assert (out / name).read_bytes() == (REPO_ROOT / "templates" / name).read_bytes(), name
    harness = (out / "cloudformation-ecs-harness.yaml").read_text()
    encoded = re.search(rf"Name: {LOCUST_CODE_ENV}\n\s+Value: (\S+)", harness)
    assert encoded is not None
    assert decode_source(encoded.group(1)) == (REPO_ROOT / "loadtest" / "locustfile.py").read_bytes()


def test_bench_local_help_from_the_wheel(installed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = installed
    done = _run([sys.executable, "-m", "litellm_bench_cfn.cli", "bench", "local", "--help"], cwd, env)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
