"""Printing a turn as it streams: assistant text, tool lines, their arguments shortened."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .status import stderr_lock

__all__ = ["TurnPrinter", "format_arguments", "one_line"]


# ---------------------------------------------------------------------------
# printing a turn
# ---------------------------------------------------------------------------

_ARGS_LIMIT = 160


def one_line(text: str, limit: int = _ARGS_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_arguments(arguments: Any) -> str:
    """A tool call's arguments as one short line of JSON."""
    if arguments is None or arguments == {}:
        return ""
    if isinstance(arguments, str):
        return one_line(arguments)
    try:
        text = json.dumps(arguments, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(arguments)
    return text if len(text) <= _ARGS_LIMIT else text[: _ARGS_LIMIT - 1] + "…"


class TurnPrinter:
    """Prints a turn's events: the assistant's text on ``out`` as it streams, and one
    line per tool call on ``err`` (``→ name {args}``), plus ``✗ name failed: ...`` when a
    call fails. Events of sub-agents print their tool lines only."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        refused: set[str] | None = None,
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.refused: set[str] = (
            refused if refused is not None else set()
        )  # tool calls whose refusal was already shown
        self._streamed: set[str] = set()
        self._tools: dict[str, str] = {}
        self._mid_line = False  # ``out`` is not at the start of a line
        self.text = ""  # everything the turn printed on ``out``

    def start_turn(self) -> None:
        self._streamed.clear()
        self._tools.clear()
        self._mid_line = False
        self.text = ""

    def finish_turn(self) -> None:
        """End the output with a newline if the reply did not."""
        if self._mid_line:
            self._write("\n")

    def _write(self, text: str) -> None:
        if not text:
            return
        self.out.write(text)
        self.out.flush()
        self.text += text
        self._mid_line = not text.endswith("\n")

    def tool_line(self, text: str) -> None:
        with stderr_lock:
            self.err.write(text + "\n")
            self.err.flush()

    def handle(self, event: Any) -> None:
        raw_type = event.raw_type
        sub_agent = event.agent_id is not None
        if raw_type == "assistant.message_delta":
            if sub_agent or getattr(event.data, "parent_tool_call_id", None):
                return
            delta = getattr(event.data, "delta_content", None)
            if isinstance(delta, str) and delta:
                self._streamed.add(getattr(event.data, "message_id", None) or "")
                self._write(delta)
        elif raw_type == "assistant.message":
            if sub_agent or getattr(event.data, "parent_tool_call_id", None):
                return
            message_id = getattr(event.data, "message_id", None) or ""
            if message_id not in self._streamed:
                content = getattr(event.data, "content", None)
                if isinstance(content, str):
                    self._write(content)
            self.finish_turn()  # each message on lines of its own
        elif raw_type == "tool.execution_start":
            data = event.data
            name = getattr(data, "tool_name", None) or "tool"
            server = getattr(data, "mcp_server_name", None)
            if server:
                name = f"{server}/{getattr(data, 'mcp_tool_name', None) or name}"
            self._tools[getattr(data, "tool_call_id", None) or ""] = name
            self.finish_turn()
            arguments = format_arguments(getattr(data, "arguments", None))
            self.tool_line(f"→ {name} {arguments}".rstrip())
        elif raw_type == "tool.execution_complete":
            data = event.data
            tool_call_id = getattr(data, "tool_call_id", None) or ""
            if getattr(data, "success", True) is not False or tool_call_id in self.refused:
                return
            name = self._tools.get(tool_call_id, "tool")
            err = getattr(data, "error", None)
            message = getattr(err, "message", None) if err is not None else None
            self.tool_line(f"✗ {name} failed: {one_line(message or 'no reason given')}")
