"""Spec files as users write them: every encoding problem, duplicate key, YAML tag, multi-document
file, directory, missing or unreadable file is one clear line and exit 2; an I/O failure reading an
existing file is exit 1. Never a traceback."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from litellm_bench_cfn.cli import main
from litellm_bench_cfn.spec import SpecError, load_spec

from .conftest import REPO_ROOT


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


CASES: dict[str, tuple[bytes, str]] = {
    "latin-1": ("name: caf\u00e9\n".encode("latin-1"), "is not UTF-8 (byte 0xe9 on line 1); save the file as UTF-8"),
    "utf-16": ("name: x\n".encode("utf-16"), "is UTF-16 or UTF-32 encoded; save the file as UTF-8"),
    "utf-16-be-no-bom": ("name: x\n".encode("utf-16-be"), "character #x0000 at offset 0 is not allowed in YAML"),
    "cp1252 in a later line": (b"name: a\ndescription: \x93quoted\x94\n", "is not UTF-8 (byte 0x93 on line 2)"),
    "duplicate key": (
        b"tasks: {cpu: 4096}\nname: a\ntasks: {memory: 16384}\n",
        ":3: key 'tasks' is written twice (first on line 1); keep one",
    ),
    "nested duplicate key": (b"database:\n  iops: 1\n  iops: 2\n", ":3: key 'iops' is written twice (first on line 2)"),
    "json duplicate key": (b'{"name": "a", "name": "b"}', ":1: key 'name' is written twice"),
    "python tag": (
        b"name: !!python/object/apply:os.system [echo hi]\n",
        ":1: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in a spec; write plain values",
    ),
    "custom tag": (b"name: !Ref Something\n", ":1: YAML tag '!Ref' is not allowed in a spec"),
    "binary tag": (b"name: !!binary aGVsbG8=\n", ":1: YAML tag 'tag:yaml.org,2002:binary' is not allowed"),
    "set tag": (b"name: !!set {a: null}\n", ":1: YAML tag 'tag:yaml.org,2002:set' is not allowed"),
    "two documents": (b"name: a\n---\nname: b\n", ":2: a second YAML document starts here (---); a spec file holds"),
    "NUL byte": (b"name: a\x00\n", "character #x0000 at offset 7 is not allowed in YAML; remove it"),
    "not a mapping": (b"- name: a\n", "the spec must be a mapping of keys to values, not list"),
    "broken YAML": (b"tasks: {cpu: 4096\n", ":2: not valid YAML or JSON ("),
    "date where text goes": (b"description: 2026-01-01\nname: 2026-01-01\n", "name: String should match pattern"),
}


@pytest.mark.parametrize("content, expected", CASES.values(), ids=CASES.keys())
def test_bad_file_is_one_line_and_exit_2(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    for argv in (["validate", str(path)], ["render", "--spec", str(path), "--out-dir", str(tmp_path / "out")]):
        code, out, err = cli(*argv)
        assert (code, out) == (2, ""), err
        assert len(err.splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "out").exists()


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("name: bom\ndescription: caf\u00e9\n".encode("utf-8-sig"))
    assert load_spec(path).description == "caf\u00e9"


def test_an_unquoted_date_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "date.yaml"
    path.write_text("description: 2026-01-01\n")
    assert load_spec(path).description == "2026-01-01"


def test_missing_file_directory_and_unreadable_file_are_bad_input(tmp_path: Path) -> None:
    unreadable = tmp_path / "secret.yaml"
    unreadable.write_text("name: a\n")
    unreadable.chmod(0)
    cases = {
        str(tmp_path / "nope.yaml"): "cannot read the spec (No such file or directory)",
        str(tmp_path): "cannot read the spec (Is a directory)",
        str(tmp_path / "nope.yaml" / "x.yaml"): "cannot read the spec (No such file or directory)",
    }
    if os.geteuid() != 0:  # root reads a mode-000 file anyway
        cases[str(unreadable)] = "cannot read the spec (Permission denied)"
    for path, expected in cases.items():
        code, out, err = cli("validate", path)
        assert (code, out, err) == (2, "", f"{path}: {expected}\n")


def test_an_io_error_reading_an_existing_file_is_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EIO cannot be provoked on a healthy disk: only Path.read_bytes is replaced, to raise it."""
    path = tmp_path / "spec.yaml"
    path.write_text("name: a\n")

    def failing(self: Path) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(Path, "read_bytes", failing)
    code, out, err = cli("validate", str(path))
    assert (code, out, err) == (1, "", f"{path}: I/O error reading the spec (Input/output error)\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.exit_code == 1


def test_a_bad_profile_in_the_profiles_directory_is_one_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "a.yaml").write_bytes("name: a\ndescription: caf\u00e9\n".encode("utf-16"))
    code, _, err = cli("render", "--profiles-dir", str(profiles), "--out-dir", str(tmp_path / "out"))
    assert (code, err) == (2, f"{profiles / 'a.yaml'}: is UTF-16 or UTF-32 encoded; save the file as UTF-8\n")


def test_subprocess_shows_no_traceback_for_a_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("description: na\u00efve\n".encode("latin-1"))
    done = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 2
    assert done.stderr == f"{path}: is not UTF-8 (byte 0xef on line 1); save the file as UTF-8\n"


def test_render_outside_a_checkout_says_what_is_missing(tmp_path: Path) -> None:
    """The package installed without its package data (the Locust files): one line, exit 1."""
    import shutil

    shutil.copytree(
        REPO_ROOT / "src" / "litellm_bench_cfn",
        tmp_path / "src" / "litellm_bench_cfn",
        ignore=shutil.ignore_patterns("loadtest"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "render", "--profiles-dir", str(REPO_ROOT / "profiles"),
         "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "src")},
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("render: harness source missing: ") and len(done.stderr.splitlines()) == 1
