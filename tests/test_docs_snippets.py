"""The ``python`` blocks of README.md and docs/**/*.md, and the examples/ scripts, pass
``mypy --strict`` and ``pyright`` (strict). Each block is written as a module of its own in a
temporary directory. (Running them: tests/real/test_docs_snippets_real.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .checkers import checker
from .docs_snippets import EXAMPLES, all_snippets

SNIPPETS = all_snippets()
RUNNABLE = [s for s in SNIPPETS if s.skip_reason is None]


def test_blocks_are_found_and_skips_are_few() -> None:
    skipped = [s for s in SNIPPETS if s.skip_reason]
    print(f"{len(SNIPPETS)} python blocks, {len(skipped)} marked skip:")
    for s in skipped:
        print(f"  {s.id}: {s.skip_reason}")
    assert len(SNIPPETS) >= 20
    assert len(skipped) <= max(3, len(SNIPPETS) // 8), "keep skips rare"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_block_is_valid_python(snippet) -> None:
    if snippet.skip_reason:
        pytest.skip(f"marked in the markdown: {snippet.skip_reason}")
    ast.parse(snippet.code, filename=snippet.id)


@pytest.fixture(scope="module")
def snippet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snippets")
    for snippet in RUNNABLE:
        (root / f"{snippet.module_name}.py").write_text(snippet.code, encoding="utf-8")
    for example in EXAMPLES:
        (root / f"example_{example.stem}.py").write_text(
            example.read_text(encoding="utf-8"), encoding="utf-8"
        )
    (root / "pyrightconfig.json").write_text(
        '{"typeCheckingMode": "strict", "pythonVersion": "3.10", "reportMissingModuleSource": false}'
    )
    return root


def _origin(line: str) -> str:
    """A checker's line, with the module name turned back into README.md:46 style."""
    for snippet in RUNNABLE:
        if snippet.module_name + ".py" in line:
            return line.replace(snippet.module_name + ".py", f"[{snippet.id}]")
    for example in EXAMPLES:
        if f"example_{example.stem}.py" in line:
            return line.replace(f"example_{example.stem}.py", f"[examples/{example.name}]")
    return line


@pytest.mark.timeout(300)
def test_blocks_pass_mypy_strict(snippet_dir: Path) -> None:
    done = subprocess.run(
        [
            checker("mypy"),
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            "--python-executable",
            sys.executable,
            ".",
        ],
        cwd=snippet_dir,
        capture_output=True,
        text=True,
        timeout=280,
    )
    errors = [_origin(line) for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 0 and not errors, "\n".join(errors) or done.stdout + done.stderr


@pytest.mark.timeout(300)
def test_blocks_pass_pyright(snippet_dir: Path) -> None:
    done = subprocess.run(
        [checker("pyright"), "--pythonpath", sys.executable, "."],
        cwd=snippet_dir,
        capture_output=True,
        text=True,
        timeout=280,
    )
    errors = [_origin(line) for line in done.stdout.splitlines() if " - error:" in line]
    assert done.returncode == 0 and not errors, "\n".join(errors) or done.stdout + done.stderr
