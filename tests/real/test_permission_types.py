"""Typed permission requests against the real CLI (scripted model): the agent's ``bash``,
``view``, ``create`` and ``web_fetch`` tools and a ``define_tool`` tool each ask
permission, and the handler gets the class of that kind with the right typed fields."""

from __future__ import annotations

import threading

from copilot_sync import (
    CustomToolPermissionRequest,
    PermissionRequest,
    PermissionRequestResult,
    ReadPermissionRequest,
    ShellPermissionRequest,
    UrlPermissionRequest,
    WritePermissionRequest,
    define_tool,
)

from .conftest import open_session

TIMEOUT = 60
URL = "http://127.0.0.1:9/never-fetched"  # rejected below: nothing is fetched

SHOUTED: list[str] = []


@define_tool
def shout(text: str) -> str:
    """Shout some text."""
    SHOUTED.append(text)
    return text.upper() + "!"


def test_each_tool_asks_with_the_class_of_its_kind(client, model, tmp_path):
    SHOUTED.clear()
    notes = tmp_path / "notes.txt"
    notes.write_text("the secret word is parsnip\n")
    created = tmp_path / "new.txt"
    seen: list[PermissionRequest] = []
    lock = threading.Lock()

    def policy(request: PermissionRequest, invocation: dict) -> PermissionRequestResult:
        with lock:
            seen.append(request)
        match request:
            case ShellPermissionRequest(command="echo hi"):
                return PermissionRequestResult(kind="approve-once")
            case ReadPermissionRequest(path=path) if path == str(notes):
                return PermissionRequestResult(kind="approve-once")
            case WritePermissionRequest(file_name=name) if name == str(created):
                return PermissionRequestResult(kind="approve-once")
            case CustomToolPermissionRequest(tool_name="shout"):
                return PermissionRequestResult(kind="approve-once")
            case UrlPermissionRequest(url=url):
                return PermissionRequestResult(kind="reject", feedback=f"no fetching {url}")
        return PermissionRequestResult(kind="reject", feedback="unexpected")

    model.add_tool_call("bash", {"command": "echo hi", "description": "x"}, call_id="call_bash")
    model.add_tool_call("view", {"path": str(notes)}, call_id="call_view")
    model.add_tool_call(
        "create", {"path": str(created), "file_text": "new content\n"}, call_id="call_create"
    )
    model.add_tool_call("shout", {"text": "hey"}, call_id="call_shout")
    model.add_tool_call("web_fetch", {"url": URL}, call_id="call_fetch")
    model.add_reply("done")
    with open_session(
        client, model, tools=[shout], on_permission_request=policy, working_directory=str(tmp_path)
    ) as session:
        reply = session.send_and_wait("use the tools", timeout=TIMEOUT)
    assert reply is not None and reply.data.content == "done"

    by_call = {request.tool_call_id: request for request in seen}
    assert set(by_call) == {"call_bash", "call_view", "call_create", "call_shout", "call_fetch"}, (
        seen
    )

    shell = by_call["call_bash"]
    assert type(shell) is ShellPermissionRequest and shell.kind == "shell"
    assert shell.command == shell.full_command_text == "echo hi"
    assert shell.intention == "x"
    assert [c.identifier for c in shell.commands] == ["echo hi"] and shell.commands[
        0
    ].read_only is False
    assert shell.command_segments is not None and shell.command_segments[0].identifier == "echo"
    assert shell.possible_paths == [] and shell.possible_urls == []
    assert shell.has_write_file_redirection is False and isinstance(
        shell.can_offer_session_approval, bool
    )
    assert shell.shell_type in ("bash", None)  # 1.0.102 sends it; 1.0.81 does not
    assert shell["fullCommandText"] == "echo hi"  # dict-style access as before

    read = by_call["call_view"]
    assert type(read) is ReadPermissionRequest
    assert read.path == str(notes) and read.intention == f"Read file: {notes}"

    write = by_call["call_create"]
    assert type(write) is WritePermissionRequest
    assert write.file_name == str(created) and write.intention == "Create file"
    assert write.new_file_contents == "new content\n" and "+new content" in (write.diff or "")
    assert write.can_offer_session_approval is True

    tool = by_call["call_shout"]
    assert type(tool) is CustomToolPermissionRequest
    assert tool.tool_name == "shout" and tool.tool_description == "Shout some text."
    assert tool.args == {"text": "hey"}

    fetch = by_call["call_fetch"]
    assert type(fetch) is UrlPermissionRequest
    assert fetch.url == URL and fetch.intention and fetch.redirected_from is None
    assert fetch.request_sandbox_bypass in (False, None)

    # the decisions took effect
    results = {
        r["tool_call_id"]: r["content"] for request in model.requests for r in request.tool_results
    }
    assert "hi" in results["call_bash"]
    assert "parsnip" in results["call_view"]
    assert created.read_text() == "new content\n"
    assert SHOUTED == ["hey"] and results["call_shout"] == "HEY!"
    assert results["call_fetch"].endswith(f"User feedback: no fetching {URL}")
