"""``copilot-sync batch`` and ``copilot-sync batch-summary`` on the fake CLI."""

from __future__ import annotations

import json
import re

import pytest

from copilot_sync.__main__ import main
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import assert_exactly_once


def write_prompts(path, n: int) -> None:
    lines = [json.dumps(f"p{i}") if i % 2 else json.dumps({"id": f"x{i}", "prompt": f"p{i}"}) for i in range(n)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")


def test_batch_runs_resumes_and_summarises(fake, tmp_path, capsys):
    prompts, out = tmp_path / "prompts.jsonl", tmp_path / "results.jsonl"
    write_prompts(prompts, 6)
    argv = ["batch", str(prompts), "--out", str(out), "--workers", "3", "--cli-path", fake.cli_path, "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    ids = ["x0", "1", "x2", "3", "x4", "5"]
    assert_exactly_once(out, ids)
    assert "items recorded    6" in capsys.readouterr().out
    assert main(argv) == 0  # nothing left to do
    assert re.search(r"^already done +6$", capsys.readouterr().out, re.M)
    assert_exactly_once(out, ids)
    assert main(["batch-summary", str(out)]) == 0
    assert re.search(r"^  ok +6$", capsys.readouterr().out, re.M)
    assert main(["summary", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {"ok": 6} and data["total"] == 6


def test_batch_exit_status_and_usage_errors(tmp_path, capsys):
    prompts, out = tmp_path / "prompts.jsonl", tmp_path / "results.jsonl"
    write_prompts(prompts, 2)
    with FakeCLI(Scenario(turn_error="boom")) as fake:
        argv = ["batch", str(prompts), "-o", str(out), "--cli-path", fake.cli_path, "--retries", "0", "--no-progress"]  # fmt: skip
        assert main(argv) == 1
    prompts.write_text('"ok"\n[1, 2]\n', encoding="utf-8")
    assert main(["batch", str(prompts), "-o", str(out)]) == 2
    assert "line 2" in capsys.readouterr().err
    prompts.write_text('{"id": "a", "prompt": "1"}\n{"id": "a", "prompt": "2"}\n', encoding="utf-8")
    assert main(["batch", str(prompts), "-o", str(out)]) == 2
    assert "duplicate item id" in capsys.readouterr().err
    assert main(["batch-summary", str(tmp_path / "missing.jsonl")]) == 2
    with pytest.raises(SystemExit):
        main(["batch", str(prompts), "-o", str(out), "--workers", "0"])
