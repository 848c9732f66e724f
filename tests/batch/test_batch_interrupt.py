"""A real Ctrl-C (SIGINT) to ``copilot-sync batch``; what importing copilot_sync.batch loads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from copilot_sync.__main__ import main
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import assert_exactly_once, read_jsonl


def test_importing_batch_loads_neither_dask_nor_tqdm():
    code = "import sys, copilot_sync, copilot_sync.batch; print(sorted(m for m in sys.modules if m.split('.')[0] in ('distributed', 'dask', 'tqdm')))"  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.timeout(60)
def test_sigint_to_the_batch_command_leaves_a_valid_file_and_a_rerun_finishes(tmp_path, capsys):
    prompts, out = tmp_path / "prompts.jsonl", tmp_path / "out.jsonl"
    prompts.write_text("".join(json.dumps(f"p{i}") + "\n" for i in range(20)), encoding="utf-8")
    with FakeCLI(Scenario(think_time=0.2)) as fake:
        argv = ["batch", str(prompts), "--out", str(out), "--workers", "2", "--cli-path", fake.cli_path, "--no-progress"]  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "copilot_sync", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 3):  # fmt: skip
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "run again to finish" in err
        first = read_jsonl(out)
        assert 3 <= len(first) < 20 and len({r["id"] for r in first}) == len(first)
        assert main(argv) == 0
    assert_exactly_once(out, [str(i) for i in range(20)])
