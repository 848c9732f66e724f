"""The examples run, through the real CLI, offline with the scripted model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_holds_a_conversation_offline(cli_env, real_cli):
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "running offline" in out
    assert "assistant: Because a plain script" in out
    assert "assistant (streamed): You asked why a script would want a synchronous SDK." in out
