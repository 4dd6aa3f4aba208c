"""Issue 16 item 5: the files the package ships as text are type-checked like the rest of src/.

Asked of mypy itself (its own config parser and source finder, as `mypy` run from the repository
root uses them), so an `exclude`, a path mapping or an `ignore_errors` override that takes a shipped
file out of the gate fails here, not just in scripts/test.sh's output.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from mypy.config_parser import parse_config_file
from mypy.find_sources import create_source_list
from mypy.options import Options

from litellm_bench_cfn import shipped

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(shipped.__file__).resolve().parent


def _in_checkout(path: Path) -> Path:
    """The shipped file in this checkout's src/ (wherever the package was imported from)."""
    return REPO_ROOT / "src" / "litellm_bench_cfn" / path.resolve().relative_to(PACKAGE)


SHIPPED = {
    _in_checkout(shipped.FAKE_ENDPOINT): "litellm_bench_cfn.fake_endpoint",
    # Locust runs these as top-level modules (high_throughput and open_loop `import locustfile`).
    _in_checkout(shipped.LOCUSTFILE): "locustfile",
    _in_checkout(shipped.HIGH_THROUGHPUT_LOCUSTFILE): "high_throughput",
    _in_checkout(shipped.OPEN_LOOP_LOCUSTFILE): "open_loop",
}


def _mypy_sources(monkeypatch: pytest.MonkeyPatch) -> tuple[Options, dict[Path, str]]:
    monkeypatch.chdir(REPO_ROOT)  # `files` in the config is relative to where mypy runs
    options = Options()
    errors = io.StringIO()
    parse_config_file(options, lambda: None, str(REPO_ROOT / "pyproject.toml"), io.StringIO(), errors)
    assert not errors.getvalue(), errors.getvalue()
    sources = create_source_list(options.files or [], options)
    return options, {Path(s.path).resolve(): s.module for s in sources if s.path}


@pytest.mark.parametrize("path", sorted(SHIPPED), ids=lambda p: p.name)
def test_every_shipped_file_is_checked_under_the_name_it_runs_as(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options, sources = _mypy_sources(monkeypatch)
    assert sources.get(path) == SHIPPED[path], f"{path} is not a mypy source as {SHIPPED[path]!r}"
    assert not options.clone_for_module(SHIPPED[path]).ignore_errors, f"an override ignores {SHIPPED[path]}'s errors"
