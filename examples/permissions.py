"""Permissions: decide, in your own code, what the agent may do.

    python examples/permissions.py

Before the CLI runs a tool that needs permission (reading or writing files, running shell
commands, calling your own tools...) it asks, and ``on_permission_request`` answers. This
policy lets the agent read files and call this app's tools, and rejects everything else,
shell commands included, with feedback the model can act on. Without a handler the CLI
denies such tools ("Permission denied and could not request permission from user").

With GitHub auth (GITHUB_TOKEN, GH_TOKEN or COPILOT_GITHUB_TOKEN, or a logged-in CLI) it
talks to GitHub Copilot; without it, it runs offline against a scripted local model.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from copilot_sync import (
    CopilotClient,
    PermissionRequest,
    PermissionRequestResult,
    SessionEvent,
    define_tool,
)
from copilot_sync.testing import ModelRequest, Reply, ScriptedModelServer, ToolCall

THIS_FILE = str(Path(__file__).resolve())
_print_lock = threading.Lock()  # the handler runs on worker threads, possibly several at once


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


@define_tool
def count_lines(path: str) -> str:
    """Counts the lines of a text file."""
    return f"{path} has {len(Path(path).read_text().splitlines())} lines"


def policy(request: PermissionRequest, invocation: dict[str, Any]) -> PermissionRequestResult:
    """Approve reads and this app's own tools; reject the rest, saying why."""
    if request.kind == "read":
        decision = PermissionRequestResult(kind="approve-once")
        what = f"read {request.path}"
    elif request.kind == "custom-tool":
        decision = PermissionRequestResult(kind="approve-once")
        what = f"call {request.tool_name}({request.args or {}})"
    elif request.kind == "shell":
        decision = PermissionRequestResult(
            kind="reject", feedback="This app never runs shell commands. Use the other tools."
        )
        what = f"run `{request.full_command_text}`"
    else:
        decision = PermissionRequestResult(
            kind="reject", feedback=f"'{request.kind}' actions are not allowed here."
        )
        what = request.kind
    verdict = "APPROVED" if decision.kind.startswith("approve") else "REJECTED"
    say(f"  [permission] {verdict}: {what}")
    return decision


def converse(client: CopilotClient, **model_options: Any) -> None:
    with client.create_session(
        tools=[count_lines], on_permission_request=policy, **model_options
    ) as session:
        session.on("tool.execution_complete", report_tool)
        question = (
            f"Look at {THIS_FILE}: show me its first lines, delete the build directory with a shell command, "
            "and count the file's lines."
        )
        say(f"you: {question}")
        reply = session.send_and_wait(question, timeout=120)
        say(f"assistant: {reply.data.content if reply else '(no reply)'}")


def report_tool(e: SessionEvent) -> None:
    if e.type == "tool.execution_complete":  # narrows e.data to ToolExecutionCompleteData
        say(f"  [tool] {'ok' if e.data.success else 'failed'}: {first_line(e.raw['data'])}")


def first_line(data: dict[str, Any]) -> str:
    result: dict[str, Any] = data.get("result") or {}
    error: dict[str, Any] = data.get("error") or {}
    text = str(result.get("content") or error.get("message") or "")
    return text.strip().splitlines()[0] if text.strip() else "(empty)"


def offline_model() -> ScriptedModelServer:
    """A stand-in for the model: one step at a time, a file read, a shell command, a custom
    tool, then a summary of what the tools answered."""
    steps = [
        ToolCall("view", {"path": THIS_FILE, "view_range": [1, 1]}),
        ToolCall("bash", {"command": "rm -rf build", "description": "Delete the build directory"}),
        ToolCall("count_lines", {"path": THIS_FILE}),
    ]

    def respond(request: ModelRequest) -> Reply:
        last_user = max(
            (i for i, m in enumerate(request.messages) if m.get("role") == "user"), default=-1
        )
        results = [
            str(m.get("content"))
            for m in request.messages[last_user + 1 :]
            if m.get("role") == "tool"
        ]
        if len(results) < len(steps):
            return Reply(tool_calls=[steps[len(results)]])
        read, shell, counted = (r.strip().splitlines()[0] for r in results)
        return Reply(
            text=f"The file starts with {read!r}. The shell command was refused ({shell}). {counted}."
        )

    return ScriptedModelServer(responder=respond)


def main() -> int:
    token = next(
        (
            os.environ[n]
            for n in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN")
            if os.environ.get(n)
        ),
        None,
    )
    with CopilotClient(github_token=token) as client:
        if client.get_auth_status().is_authenticated:
            say("Using GitHub Copilot.")
            converse(client)
        else:
            say("No GitHub auth found: running offline, the real CLI with a scripted local model.")
            with offline_model() as model:
                converse(client, model=model.model, provider=model.provider())
    return 0


if __name__ == "__main__":
    sys.exit(main())
