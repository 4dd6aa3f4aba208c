"""Every shell script is shellcheck clean (scripts/test.sh runs the same check before pytest)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from .conftest import REPO_ROOT

SCRIPTS = sorted([*(REPO_ROOT / "scripts").glob("*.sh"), REPO_ROOT / ".ci" / "run"])


def test_shell_scripts_are_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        message = "not installed: shellcheck (run scripts/bootstrap.sh as root, or apt-get install shellcheck)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert len(SCRIPTS) >= 5
    result = subprocess.run(["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
