"""examples/batch_threads.py and examples/batch_dask.py run (40 items here, 200 by default):
a CLI or a Dask worker killed halfway, the coordinator stopped, the rerun finishes the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.real_cli


@pytest.mark.timeout(150)
@pytest.mark.parametrize("name", ["batch_threads.py", "batch_dask.py"])
def test_batch_example_completes_the_file_after_a_kill(name, cli_env, real_cli, tmp_path):
    out = tmp_path / "results.jsonl"
    env = dict(cli_env, COPILOT_CLI_PATH=str(real_cli.path))
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--items", "40", "--out", str(out)],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=140,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "killed" in result.stdout and "first run: 30 records" in result.stdout
    assert "rerun: 10 items run, 40 records for 40 ids" in result.stdout
    assert len(out.read_text().splitlines()) == 40
