"""Every ``python`` block of README.md and docs/**/*.md runs, through the real CLI, offline:
each in a process of its own (with a fresh working directory), its sessions answered by
the scripted model server (see ``PRELUDE`` in tests/docs_snippets.py). The examples/ scripts
are run by test_examples.py and test_notebook.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..docs_snippets import EXAMPLES, PRELUDE, ROOT, all_snippets

SNIPPETS = all_snippets()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs(snippet, cli_env, real_cli, tmp_path):
    if snippet.skip_reason:
        pytest.skip(f"marked in the markdown: {snippet.skip_reason}")
    block = tmp_path / f"{snippet.module_name}.py"
    block.write_text(snippet.code, encoding="utf-8")
    prelude = tmp_path / "_snippet_prelude.py"
    prelude.write_text(PRELUDE, encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path, PYTHONUNBUFFERED="1")
    try:
        result = subprocess.run(
            [sys.executable, str(prelude), str(block)],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{snippet.id} did not finish in 90 s; output so far:\n{exc.stdout}\n{exc.stderr}"
        )
    assert result.returncode == 0, (
        f"{snippet.id} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    if "assistant.message_delta" in snippet.code and "stream(" in snippet.code:
        # a streaming loop must print what it streamed (the README quickstart once printed nothing)
        assert result.stdout.count("A scripted reply to:") >= 2, result.stdout


def test_every_example_is_run_by_the_example_tests():
    covered = (ROOT / "tests" / "real" / "test_examples.py").read_text()
    covered += (ROOT / "tests" / "real" / "test_notebook.py").read_text()
    for path in sorted((ROOT / "tests" / "batch").glob("test_*.py")):
        covered += path.read_text()
    missing = [p.name for p in EXAMPLES if f'"{p.name}"' not in covered]
    assert not missing, f"examples no test runs: {missing}"
