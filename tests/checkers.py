"""The type checkers and linters the tests run, found beside this interpreter (the test
extra installs them, pinned). A missing checker fails the test: skipping would let CI pass
without checking anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def checker(name: str) -> str:
    """The path of checker ``name`` (``mypy``, ``pyright``, ``ruff``)."""
    found = BIN / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        pytest.fail(f"{name} is not installed; `pip install -e '.[test]'` installs it")
    return which


def run_checker(cmd: list[str], cwd: Path) -> str:
    """Run a checker in ``cwd``; its stdout and stderr together."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    return done.stdout + done.stderr
