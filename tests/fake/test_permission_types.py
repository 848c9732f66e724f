"""Typed permission requests: each kind the CLI sends reaches the handler as its own class
(``ShellPermissionRequest``...) with typed snake_case fields, from the payloads CLI 1.0.102
and 1.0.81 send (recorded from the real CLIs where a scripted model can cause them, else
built from their schemas). Unknown kinds stay a plain ``PermissionRequest``; a field of the
wrong type or missing reads as ``None`` and is logged at DEBUG, and the turn goes on."""

from __future__ import annotations

import logging

import pytest

import copilot_sync
from copilot_sync import (
    CustomToolPermissionRequest,
    ExtensionCapabilitiesPermissionRequest,
    ExtensionEnvAccessPermissionRequest,
    ExtensionManagementPermissionRequest,
    FactoryPermissionRequest,
    HookPermissionRequest,
    McpPermissionRequest,
    MemoryPermissionRequest,
    PermissionRequest,
    PermissionRequestResult,
    ReadPermissionRequest,
    ShellPermissionRequest,
    UrlPermissionRequest,
    WorkflowPermissionRequest,
    WritePermissionRequest,
)

from .conftest import running
from .test_callbacks import PERMISSION_ANSWER, answer_to, request_permission

pytestmark = pytest.mark.timeout(60)

# ---------------------------------------------------------------------------- realistic payloads

#: The agent's ``bash`` tool, ``echo hi`` (CLI 1.0.102).
SHELL = {
    "kind": "shell", "toolCallId": "c_bash", "fullCommandText": "echo hi", "shellType": "bash", "intention": "x",
    "commands": [{"identifier": "echo hi", "readOnly": False}],
    "commandSegments": [{"identifier": "echo", "fullCommandText": "echo hi", "allowMatchIdentifier": None,
                         "staticTokens": None, "hasUnboundExecutableContent": False, "workingDirectory": None}],
    "possiblePaths": [], "canOfferSessionApproval": False, "hasWriteFileRedirection": False, "possibleUrls": [],
}  # fmt: skip
#: The same on CLI 1.0.81: no ``shellType``, segments without the extra keys.
SHELL_1_0_81 = {
    "kind": "shell", "toolCallId": "c_bash", "fullCommandText": "cat a.txt > b.txt", "intention": "copy",
    "commands": [{"identifier": "cat", "readOnly": True}],
    "commandSegments": [{"identifier": "cat", "fullCommandText": "cat a.txt"}],
    "possiblePaths": ["a.txt", "b.txt"], "possibleUrls": [{"url": "https://example.com"}],
    "hasWriteFileRedirection": True, "canOfferSessionApproval": True, "warning": "writes b.txt",
}  # fmt: skip
#: The ``create`` tool (CLI 1.0.102; 1.0.81 sends no ``fileEdits``).
WRITE = {
    "kind": "write", "toolCallId": "c_create", "intention": "Create file", "fileName": "/w/new.txt",
    "diff": "--- a/dev/null\n+++ b/w/new.txt\n@@ -1,0 +1,1 @@\n+new content\n", "newFileContents": "new content\n",
    "fileEdits": [{"after": {"path": "/w/new.txt", "content": "new content\n"}}], "canOfferSessionApproval": True,
}  # fmt: skip
#: The ``view`` tool.
READ = {
    "kind": "read",
    "toolCallId": "c_view",
    "intention": "Read file: /w/notes.txt",
    "path": "/w/notes.txt",
}
#: The ``web_fetch`` tool.
URL = {
    "kind": "url", "toolCallId": "c_fetch", "intention": "Fetch content from this URL.", "url": "https://example.com/x",
    "requestSandboxBypass": False, "requestSandboxBypassReason": None,
}  # fmt: skip
#: A tool of the session's own.
CUSTOM_TOOL = {
    "kind": "custom-tool", "toolCallId": "c_shout", "toolName": "shout", "toolDescription": "Shout.",
    "args": {"text": "hey", "nested": {"deep": [1, 2]}},
}  # fmt: skip
# From the schema (no scripted model reaches these on a bare CLI):
MCP = {
    "kind": "mcp", "toolCallId": "c_mcp", "serverName": "github", "toolName": "list_issues",
    "toolTitle": "List issues", "readOnly": True, "args": {"repo": "o/r"}, "permissionRecommendation": "approve",
}  # fmt: skip
MEMORY = {
    "kind": "memory", "toolCallId": "c_mem", "action": "store", "subject": "testing", "fact": "Run pytest -q",
    "citations": "README.md:10", "scope": "repository", "repoNwo": "o/r",
}  # fmt: skip
HOOK = {"kind": "hook", "toolCallId": "c_hook", "toolName": "bash", "toolArgs": {"command": "rm -rf /"},
        "hookMessage": "Dangerous command"}  # fmt: skip
EXTENSION_MANAGEMENT = {
    "kind": "extension-management",
    "operation": "reload",
    "extensionName": "my-ext",
}
EXTENSION_CAPABILITIES = {
    "kind": "extension-permission-access",
    "extensionName": "my-ext",
    "capabilities": ["net"],
}
EXTENSION_ENV = {
    "kind": "extension-env-access",
    "extensionName": "my-ext",
    "environmentVariables": ["API_KEY"],
}
WORKFLOW = {
    "kind": "workflow", "operation": "run", "name": "nightly", "description": "Nightly checks",
    "phases": [{"name": "build"}], "approvalKey": "workflow:nightly", "canPersistApproval": True,
    "maxConcurrentSubagents": 2, "timeoutSeconds": 90.5, "managedApprovalRequired": False,
}  # fmt: skip
FACTORY = {**WORKFLOW, "kind": "factory", "approvalKey": "factory:nightly"}  # CLI 1.0.81's name
FACTORY.pop("managedApprovalRequired")

CASES = [
    (SHELL, ShellPermissionRequest, {
        "full_command_text": "echo hi", "command": "echo hi", "intention": "x", "shell_type": "bash",
        "possible_paths": [], "possible_urls": [], "has_write_file_redirection": False,
        "can_offer_session_approval": False, "warning": None, "tool_call_id": "c_bash",
        "managed_approval_required": None, "resolved_paths": None,
    }),
    (SHELL_1_0_81, ShellPermissionRequest, {
        "command": "cat a.txt > b.txt", "possible_paths": ["a.txt", "b.txt"], "has_write_file_redirection": True,
        "can_offer_session_approval": True, "warning": "writes b.txt", "shell_type": None,
    }),
    (WRITE, WritePermissionRequest, {
        "file_name": "/w/new.txt", "intention": "Create file", "new_file_contents": "new content\n",
        "can_offer_session_approval": True, "resolved_path": None, "tool_call_id": "c_create",
    }),
    (READ, ReadPermissionRequest, {"path": "/w/notes.txt", "intention": "Read file: /w/notes.txt",
                                   "managed_approval_required": None, "tool_call_id": "c_view"}),
    (URL, UrlPermissionRequest, {"url": "https://example.com/x", "intention": "Fetch content from this URL.",
                                 "request_sandbox_bypass": False, "request_sandbox_bypass_reason": None,
                                 "redirected_from": None}),
    (CUSTOM_TOOL, CustomToolPermissionRequest, {
        "tool_name": "shout", "tool_description": "Shout.", "args": {"text": "hey", "nested": {"deep": [1, 2]}},
        "skip_permission": None,
    }),
    (MCP, McpPermissionRequest, {"server_name": "github", "tool_name": "list_issues", "tool_title": "List issues",
                                 "read_only": True, "args": {"repo": "o/r"}, "permission_recommendation": "approve"}),
    (MEMORY, MemoryPermissionRequest, {"fact": "Run pytest -q", "action": "store", "subject": "testing",
                                       "citations": "README.md:10", "scope": "repository", "repo_nwo": "o/r",
                                       "direction": None, "reason": None, "assisted_approval": None}),
    (HOOK, HookPermissionRequest, {"tool_name": "bash", "tool_args": {"command": "rm -rf /"},
                                   "hook_message": "Dangerous command"}),
    (EXTENSION_MANAGEMENT, ExtensionManagementPermissionRequest, {"operation": "reload", "extension_name": "my-ext",
                                                                  "tool_call_id": None}),
    (EXTENSION_CAPABILITIES, ExtensionCapabilitiesPermissionRequest, {"extension_name": "my-ext",
                                                                      "capabilities": ["net"]}),
    (EXTENSION_ENV, ExtensionEnvAccessPermissionRequest, {"extension_name": "my-ext",
                                                          "environment_variables": ["API_KEY"]}),
    (WORKFLOW, WorkflowPermissionRequest, {
        "operation": "run", "name": "nightly", "description": "Nightly checks", "approval_key": "workflow:nightly",
        "can_persist_approval": True, "max_concurrent_subagents": 2, "max_total_subagents": None,
        "timeout_seconds": 90.5, "managed_approval_required": False,
    }),
    (FACTORY, FactoryPermissionRequest, {"name": "nightly", "approval_key": "factory:nightly",
                                         "managed_approval_required": None}),
]  # fmt: skip


def _ask(payloads, policy=lambda request, invocation: "approve-once"):
    """Send each payload as a ``permission.requested``; the requests the handler got, and the answers."""
    seen = []

    def handler(request, invocation):
        seen.append(request)
        return policy(request, invocation)

    with running() as (fake, client):
        session = client.create_session(on_permission_request=handler)
        ids = [request_permission(fake, session.session_id, payload) for payload in payloads]
        answers = [answer_to(fake, PERMISSION_ANSWER, rid)["result"] for rid in ids]
    by_call = {
        request.to_dict().get("toolCallId", request.to_dict().get("kind")): request
        for request in seen
    }
    return [by_call[p.get("toolCallId", p["kind"])] for p in payloads], answers


def test_every_kind_arrives_as_its_class_with_typed_fields():
    payloads = [
        payload
        for payload, _cls, _fields in CASES
        if payload is not SHELL_1_0_81 and payload is not FACTORY
    ]
    requests, answers = _ask(payloads)
    assert answers == [{"kind": "approve-once"}] * len(payloads)
    for request, payload in zip(requests, payloads, strict=True):
        _payload, cls, fields = next(case for case in CASES if case[0] is payload)
        assert type(request) is cls and isinstance(request, PermissionRequest)
        assert request.kind == payload["kind"] == cls.KIND
        assert {name: getattr(request, name) for name in fields} == fields, cls.__name__
        # what worked before keeps working: the wire keys, the dict, fields of other kinds read None
        assert request.to_dict() == payload and dict(request.items()).keys() == payload.keys()
        assert request["kind"] == payload["kind"]
        if cls is not HookPermissionRequest:
            assert request.hook_message is None  # a field of another kind, as before


@pytest.mark.parametrize(
    ("payload", "cls", "fields"),
    CASES,
    ids=[case[1].__name__ + f"-{i}" for i, case in enumerate(CASES)],
)
def test_from_wire_gives_the_class_of_the_kind(payload, cls, fields, caplog):
    with caplog.at_level(logging.DEBUG, logger="copilot_sync.permissions"):
        request = PermissionRequest.from_wire(payload)
    assert type(request) is cls
    assert {name: getattr(request, name) for name in fields} == fields
    assert caplog.records == []  # a realistic payload reads without complaint


def test_nested_objects_are_typed_views_too():
    (shell, old, write, workflow), _ = _ask(
        [SHELL, {**SHELL_1_0_81, "toolCallId": "c_old"}, WRITE, WORKFLOW]
    )
    (command,) = shell.commands
    assert (command.identifier, command.read_only) == ("echo hi", False)
    assert command["readOnly"] is False  # still a read-only mapping of the wire object
    (segment,) = shell.command_segments
    assert (segment.identifier, segment.full_command_text) == ("echo", "echo hi")
    assert (
        segment.has_unbound_executable_content is False
    )  # keys the SDK does not type are still there
    assert [url.url for url in old.possible_urls] == ["https://example.com"]
    assert (
        old.commands[0].read_only is True
        and old.command_segments[0].full_command_text == "cat a.txt"
    )
    assert write.file_edits[0].after.path == "/w/new.txt" and write.diff.endswith("+new content\n")
    assert workflow.phases[0].name == "build"


def test_a_factory_request_of_cli_1_0_81_is_a_workflow_request():
    (request,), answers = _ask([FACTORY])
    assert (
        isinstance(request, WorkflowPermissionRequest) and type(request) is FactoryPermissionRequest
    )
    assert (
        request.kind == "factory"
        and request.operation == "run"
        and answers == [{"kind": "approve-once"}]
    )


def test_an_unknown_kind_stays_a_plain_request():
    payload = {"kind": "teleport", "toolCallId": "c_t", "destination": "mars", "fullCommandText": 3}
    (request,), answers = _ask([payload])
    assert (
        type(request) is PermissionRequest
        and request.kind == "teleport"
        and type(request.kind) is str
    )
    assert request.destination == "mars" and request["destination"] == "mars"
    assert request.tool_call_id == "c_t" and request.file_name is None
    assert answers == [{"kind": "approve-once"}]
    assert not any(isinstance(request, cls) for _p, cls, _f in CASES)


def test_missing_or_mistyped_fields_read_none_are_logged_and_the_turn_goes_on(caplog):
    bad_shell = {
        "kind": "shell", "toolCallId": "c_bad", "fullCommandText": ["not", "a", "string"], "intention": 7,
        "commands": "echo", "possiblePaths": ["ok", 3], "possibleUrls": None, "hasWriteFileRedirection": "yes",
        "commandSegments": [{"identifier": 5, "fullCommandText": "x"}],
    }  # fmt: skip
    bad_read = {"kind": "read", "toolCallId": "c_read"}  # path and intention missing
    bad_mcp = {
        "kind": "mcp",
        "toolCallId": "c_mcp",
        "serverName": {"x": 1},
        "toolName": "t",
        "readOnly": 1,
    }
    seen = []

    def policy(request, invocation):
        seen.append(request)
        return "reject"

    with caplog.at_level(logging.DEBUG, logger="copilot_sync.permissions"):
        requests, answers = _ask([bad_shell, bad_read, bad_mcp], policy)
    shell, read, mcp = requests
    assert answers == [{"kind": "reject"}] * 3  # every handler ran and was answered
    assert type(shell) is ShellPermissionRequest
    assert (shell.full_command_text, shell.command, shell.intention, shell.commands) == (
        None,
        None,
        None,
        None,
    )
    assert (shell.possible_paths, shell.possible_urls, shell.has_write_file_redirection) == (
        None,
        None,
        None,
    )
    assert (
        shell.command_segments[0].identifier is None
        and shell.command_segments[0].full_command_text == "x"
    )
    assert shell["fullCommandText"] == ["not", "a", "string"]  # the raw value is still there
    assert (read.path, read.intention, read.tool_call_id) == (None, None, "c_read")
    assert (mcp.server_name, mcp.tool_name, mcp.read_only, mcp.tool_title) == (
        None,
        "t",
        None,
        None,
    )
    text = caplog.text
    assert "'shell' permission request" in text and "fullCommandText is a list" in text
    assert "commandSegments[0].identifier is a int" in text
    assert "path is missing" in text and "serverName is a dict" in text
    assert all(
        record.levelno == logging.DEBUG
        for record in caplog.records
        if record.name == "copilot_sync.permissions"
    )


def test_a_handler_can_match_on_the_classes_and_its_answers_reach_the_wire():
    def policy(request, invocation):
        match request:
            case ShellPermissionRequest(command=command) if command and command.startswith("echo"):
                return "approve-once"
            case ShellPermissionRequest():
                return PermissionRequestResult(kind="reject", feedback="only echo")
            case ReadPermissionRequest(path=path) if path and path.startswith("/w/"):
                return "approve-for-session"
            case WritePermissionRequest(file_name=name):
                return PermissionRequestResult(kind="reject", feedback=f"no writing {name}")
            case UrlPermissionRequest(url=url) if url and url.startswith("https://example.com/"):
                return "approve-once"
            case CustomToolPermissionRequest(tool_name="shout", args={"text": _}):
                return "approve-for-session"
            case McpPermissionRequest(server_name=_, tool_name=_, read_only=True):
                return PermissionRequestResult(kind="approve-for-session")
            case PermissionRequest(kind=kind):
                return PermissionRequestResult(kind="reject", feedback=f"{kind} is not allowed")

    payloads = [SHELL, {**SHELL, "toolCallId": "c_rm", "fullCommandText": "rm x"}, READ, WRITE, URL, CUSTOM_TOOL,
                MCP, MEMORY, {"kind": "teleport", "toolCallId": "c_t"}]  # fmt: skip
    _requests, answers = _ask(payloads, policy)
    assert answers == [
        {"kind": "approve-once"},
        {"kind": "reject", "feedback": "only echo"},
        {"kind": "approve-for-session", "approval": {"kind": "read"}},
        {"kind": "reject", "feedback": "no writing /w/new.txt"},
        {"kind": "approve-once"},
        {"kind": "approve-for-session", "approval": {"kind": "custom-tool", "toolName": "shout"}},
        {
            "kind": "approve-for-session",
            "approval": {"kind": "mcp", "serverName": "github", "toolName": "list_issues"},
        },
        {"kind": "reject", "feedback": "memory is not allowed"},
        {"kind": "reject", "feedback": "teleport is not allowed"},
    ]


def test_the_classes_are_public_documented_and_read_only():
    for _payload, cls, fields in CASES:
        assert cls.__module__ == "copilot_sync" and getattr(copilot_sync, cls.__name__) is cls
        assert cls.__name__ in copilot_sync.__all__ and cls.__doc__ and cls.KIND in cls.__doc__
        for name in fields:
            assert getattr(cls, name).__doc__, f"{cls.__name__}.{name} has no docstring"
    request = PermissionRequest.from_wire(READ)
    with pytest.raises(AttributeError, match="read-only"):
        request.path = "/etc/shadow"  # type: ignore[misc]
    with pytest.raises(TypeError):
        request["path"] = "/etc/shadow"  # type: ignore[index]
    assert request.path == "/w/notes.txt"
