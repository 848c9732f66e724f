"""The README's snippets type-check: ``SessionEvent`` is a discriminated union, so a
``type`` check (or ``isinstance`` on ``data``) narrows ``event.data`` to the payload class
under mypy --strict and pyright (strict), and ``send_and_wait`` returns a typed
``AssistantMessageEvent`` (never ``None``). Runs both checkers on a snippet in a temporary
directory (about 20-40 s)."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from .checkers import checker, run_checker

pytestmark = pytest.mark.timeout(300)

SNIPPET = textwrap.dedent(
    """\
    from copilot_sync import AssistantMessageEvent, CopilotClient, SessionEvent
    from copilot_sync.generated.session_events import AssistantMessageData


    def on_event(event: SessionEvent) -> None:
        if event.type == "assistant.message":
            reveal_type(event.data)
            reveal_type(event.data.content)
        if isinstance(event.data, AssistantMessageData):
            reveal_type(event.data.content)
        if event.type == "assistant.message_delta":
            reveal_type(event.data.delta_content)
        elif event.type == "tool.execution_start":
            reveal_type(event.data.tool_name)
        elif event.type == "session.idle":
            reveal_type(event)


    def quickstart() -> None:
        with CopilotClient() as client:
            with client.create_session(model="gpt-5.4", streaming=True) as session:
                reply = session.send_and_wait("What is a monad?", timeout=120)
                reveal_type(reply.data.content)
                for event in session.stream("Now explain it to a five-year-old."):
                    if event.type == "assistant.message_delta":
                        reveal_type(event.data.delta_content)
                future = session.send_async("again")
                reveal_type(future.result().data.content)
                session.on(on_event)
                reveal_type(session.send_and_collect("text"))


    def keep(reply: AssistantMessageEvent) -> str:
        return reply.data.content
    """
)

# One entry per reveal_type above, in order.
EXPECTED = [
    "AssistantMessageData",
    "str",
    "str",
    "str",
    "str",
    "SessionIdleEvent",
    "str",
    "str",
    "str",
    "str",
]


def _short(type_text: str) -> str:
    """``"copilot_sync.generated.session_events.AssistantMessageData"`` -> the class name."""
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", type_text.strip('"'))


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    (tmp_path / "snippet.py").write_text(SNIPPET)
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.10"})
    )
    return tmp_path


def test_mypy_strict_narrows_event_data(snippet: Path) -> None:
    out = run_checker(
        [checker("mypy"), "--strict", "--no-incremental", "--cache-dir", "/dev/null", "snippet.py"],
        snippet,
    )
    revealed = [
        _short(line.split("Revealed type is ", 1)[1])
        for line in out.splitlines()
        if "Revealed type" in line
    ]
    assert revealed == EXPECTED, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert errors == [], out


def test_pyright_strict_narrows_event_data(snippet: Path) -> None:
    out = run_checker([checker("pyright"), "--pythonpath", sys.executable, "snippet.py"], snippet)
    revealed = [
        _short(line.split(" is ", 1)[1])
        for line in out.splitlines()
        if "information: Type of" in line
    ]
    assert revealed == EXPECTED, out
    errors = [line for line in out.splitlines() if " - error:" in line]
    assert errors == [], out


GENERATED = Path(__file__).resolve().parent.parent / "src" / "copilot_sync" / "generated"


def test_generated_code_passes_mypy_strict() -> None:
    out = run_checker(
        [
            checker("mypy"),
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            str(GENERATED),
        ],
        GENERATED,
    )
    assert "Success: no issues found" in out, out


def test_generated_code_passes_pyright_strict(tmp_path: Path) -> None:
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.10"}))
    out = run_checker(
        [
            checker("pyright"),
            "--pythonpath",
            sys.executable,
            "--project",
            str(config),
            str(GENERATED),
        ],
        tmp_path,
    )
    assert re.search(r"(?m)^0 errors, ", out), out
