"""Structured output against the real CLI with the scripted model: what reaches the model
(CLI 1.0.102 forwards ``responseFormat`` as an OpenAI ``response_format``; 1.0.81 drops it),
and the reply converted, or the error, on the SDK's side."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from copilot_sync import CopilotClient, StructuredOutputError, define_tool
from copilot_sync._install import cli_home, find_installed_cli
from copilot_sync._versions import OLDEST_SUPPORTED_CLI_VERSION

from ..conftest import assert_no_sdk_threads
from .conftest import open_session

TIMEOUT = 60

pytestmark = pytest.mark.timeout(60)


@dataclasses.dataclass
class Point:
    x: int
    y: int


POINT_SCHEMA = {
    "type": "object",
    "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
    "required": ["x", "y"],
    "additionalProperties": False,
}
OPENAI_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "response", "schema": POINT_SCHEMA, "strict": True},
}


def test_a_dataclass_reply_round_trip_and_the_model_gets_the_schema(client, model):
    model.add_reply('{"x": 3, "y": -4}')
    model.add_reply("plain text")
    with open_session(client, model) as session:
        assert session.send_and_wait(
            "Where is it?", response_format=Point, timeout=TIMEOUT
        ) == Point(3, -4)
        reply = session.send_and_wait("And now?", timeout=TIMEOUT)
        assert reply.data.content == "plain text"
    structured, plain = model.requests[-2:]
    assert structured.body["response_format"] == OPENAI_FORMAT
    assert "response_format" not in plain.body  # per turn: not inherited by the next one


def test_an_invalid_reply_raises_with_the_raw_text(client, model):
    model.add_reply('{"x": 3}')
    model.add_reply("I think it is at (3, 4).")
    with open_session(client, model) as session:
        with pytest.raises(StructuredOutputError) as caught:
            session.send_and_wait("Where is it?", response_format=Point, timeout=TIMEOUT)
        assert caught.value.text == '{"x": 3}'
        assert caught.value.errors == [("$.y", "missing required field")]
        assert caught.value.event.raw_type == "assistant.message"
        with pytest.raises(StructuredOutputError, match="not valid JSON") as caught:
            session.send_and_wait("Where is it?", response_format=Point, timeout=TIMEOUT)
        assert caught.value.text == "I think it is at (3, 4)."


def test_send_async_twin(client, model):
    model.add_reply('{"x": 1, "y": 2}')
    model.add_reply('{"value": ["a", "b"]}')
    with open_session(client, model) as session:
        done = threading.Event()
        first = session.send_async("one", response_format=Point)
        second = session.send_async("two", response_format=list[str])
        second.add_done_callback(lambda f: done.set())
        assert first.result(TIMEOUT) == Point(1, 2)
        assert second.result(TIMEOUT) == ["a", "b"]
        assert done.wait(TIMEOUT)
    assert model.requests[-1].body["response_format"]["json_schema"]["schema"]["properties"] == {
        "value": {"type": "array", "items": {"type": "string"}}
    }


def test_the_format_holds_for_every_model_call_of_the_turn(client, model):
    calls = []

    @define_tool(skip_permission=True)
    def locate(name: str) -> str:
        """Where a named point is."""
        calls.append(name)
        return "x=7, y=8"

    model.add_tool_call("locate", {"name": "home"})
    model.add_reply('{"x": 7, "y": 8}')
    with open_session(client, model, tools=[locate]) as session:
        assert session.send_and_wait(
            "Where is home?", response_format=Point, timeout=TIMEOUT
        ) == Point(7, 8)
    assert calls == ["home"]
    tool_call, final = model.requests[-2:]
    assert tool_call.body["response_format"] == final.body["response_format"] == OPENAI_FORMAT


def test_the_oldest_cli_drops_the_format_but_the_reply_is_still_converted(copilot_home, model):
    installed = find_installed_cli(
        OLDEST_SUPPORTED_CLI_VERSION, cli_home(OLDEST_SUPPORTED_CLI_VERSION)
    )
    if installed is None:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(
            f"Copilot CLI {OLDEST_SUPPORTED_CLI_VERSION} is not installed; run `bash scripts/setup.sh`"
        )
    env = dict(os.environ, COPILOT_HOME=copilot_home, **installed.env)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN", "COPILOT_CLI_PATH"):
        env.pop(name, None)
    before = {t.ident for t in threading.enumerate()}
    model.add_reply('```json\n{"x": 5, "y": 6}\n```')
    with CopilotClient(cli_path=str(installed.executable), env=env) as old:
        with open_session(old, model) as session:
            assert session.send_and_wait("Where?", response_format=Point, timeout=TIMEOUT) == Point(
                5, 6
            )
    assert_no_sdk_threads(before)
    assert (
        "response_format" not in model.requests[-1].body
    )  # 1.0.81 accepts responseFormat and ignores it


def test_the_docs_snippets_run_offline(cli_env, real_cli):
    """docs/STRUCTURED_OUTPUT.md: every ```python block runs as it is, and prints what it says."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "STRUCTURED_OUTPUT.md"
    blocks = re.findall(
        r"^```python\n(.*?)^```$", doc.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE
    )
    assert blocks
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path)
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block], env=env, capture_output=True, text=True, timeout=50
        )
        assert done.returncode == 0, done.stderr
        for line in block.splitlines():  # each "print(...)  # shown" comment is the line printed
            if line.lstrip().startswith("print(") and "# " in line:
                assert line.split("# ", 1)[1] in done.stdout
