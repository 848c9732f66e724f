"""The checkers Python users and reviewers run, run by the test command so that CI fails on
a regression: ``mypy --strict`` and ``pyright`` (strict) on the package, generated code
included; ``pyright --verifytypes`` (every public symbol fully typed); ``ruff check`` and
``ruff format --check`` on the whole repository. Configuration: ``pyproject.toml``.

The docs site build is checked in tests/test_docs_site.py, the typing of README and docs
snippets in tests/test_docs_snippets.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .checkers import BIN, checker

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(900)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["VIRTUAL_ENV"] = str(BIN.parent)
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=840, env=env, check=False
    )


def test_mypy_strict_reports_nothing() -> None:
    done = _run(checker("mypy"))  # files and strictness from [tool.mypy]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_ruff_check_reports_nothing() -> None:
    done = _run(checker("ruff"), "check", ".")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_ruff_format_would_change_nothing() -> None:
    done = _run(checker("ruff"), "format", "--check", ".")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_pyright_strict_reports_nothing() -> None:
    done = _run(checker("pyright"), "--outputjson")  # include and strictness from [tool.pyright]
    report = json.loads(done.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    shown = "\n".join(
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}" for d in errors[:40]
    )
    assert not errors, f"{len(errors)} pyright errors:\n{shown}"


def test_every_public_symbol_is_fully_typed() -> None:
    done = _run(
        checker("pyright"), "--verifytypes", "copilot_sync", "--ignoreexternal", "--outputjson"
    )
    report = json.loads(done.stdout)["typeCompleteness"]
    partial = [
        s["name"]
        for s in report["symbols"]
        if s.get("isExported") and not s.get("isTypeKnown", True)
    ]
    assert report["completenessScore"] == 1.0, (
        f"{report['completenessScore']:.2%} of the public API is typed; partly typed: "
        + ", ".join(partial[:40])
    )
