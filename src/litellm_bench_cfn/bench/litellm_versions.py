"""Other LiteLLM releases for `bench compare`, each in its own cached virtualenv.

`shipped@1.110.2` names the shipped proxy configuration run by LiteLLM 1.110.2 instead of the
pinned release. Each release is installed once from the package registry into
`$XDG_CACHE_HOME/litellm-bench-cfn/litellm-venvs/VERSION` (`litellm[proxy]` plus the same prisma
client as ours) and reused; the template, config and start script stay the same, so a comparison
isolates the release.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from ..versions import LITELLM_VERSION

VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+(\.post\d+)?$")
INSTALL_TIMEOUT_S = 1200
PRISMA_REQUIREMENT = "prisma==0.15.0"  # the same client as pyproject's bench extra


class LiteLLMInstallError(RuntimeError):
    pass


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise ValueError(f"LiteLLM version {version!r} is not a release number such as 1.110.2")
    return version


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litellm-bench-cfn" / "litellm-venvs"


def installed_version() -> str | None:
    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return None


def venv_bin(version: str) -> Path:
    return cache_root() / check_version(version) / "bin"


def litellm_bin_dir(version: str | None) -> Path | None:
    """Where the `litellm` CLI of `version` lives; None: this environment's own (the pinned one)."""
    if version is None or version == installed_version():
        return None
    directory = venv_bin(version)
    if not (directory / "litellm").exists():
        raise LiteLLMInstallError(f"LiteLLM {version} is not installed yet (ensure_litellm installs it)")
    return directory


def ensure_litellm(version: str, say: Callable[[str], None] = print) -> Path | None:
    """Install `version` into its cached virtualenv unless it is there; returns its bin dir."""
    check_version(version)
    if version == installed_version():
        return None
    directory = venv_bin(version)
    stamp = directory.parent / ".installed"
    if stamp.exists() and (directory / "litellm").exists():
        return directory
    say(f"installing LiteLLM {version} into {directory.parent} (once; a few minutes)")
    try:
        if not (directory / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(directory.parent)], check=True, timeout=300)
        subprocess.run(
            [str(directory / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"litellm[proxy]=={version}", PRISMA_REQUIREMENT],
            check=True, timeout=INSTALL_TIMEOUT_S, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["(no output)"]
        raise LiteLLMInstallError(f"cannot install LiteLLM {version}: {last[0]}") from None
    except subprocess.TimeoutExpired:
        raise LiteLLMInstallError(f"installing LiteLLM {version} took longer than {INSTALL_TIMEOUT_S}s") from None
    stamp.write_text(version + "\n")
    return directory


__all__ = ["LITELLM_VERSION", "LiteLLMInstallError", "check_version", "ensure_litellm", "litellm_bin_dir"]
