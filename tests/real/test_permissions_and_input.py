"""Permission decisions and user input (``ask_user``) against the real CLI (scripted model)."""

from __future__ import annotations

import json
import logging
import threading
import warnings

import pytest

from copilot_sync import (
    MissingPermissionHandlerWarning,
    PermissionHandler,
    PermissionRequest,
    PermissionRequestResult,
    define_tool,
)

from .conftest import open_session

#: What the CLI tells the model when a permission is denied without a handler's answer.
DENIED = "Permission denied and could not request permission from user"

TIMEOUT = 30


@define_tool
def delete_file(path: str) -> str:
    """Deletes a file."""
    CALLED.append(path)
    return f"deleted {path}"


CALLED: list[str] = []


def _tool_message(request, call_id) -> str:
    return next(r["content"] for r in request.tool_results if r["tool_call_id"] == call_id)


def _script_delete(model, call_id="call_del", path="/tmp/x"):
    model.add_tool_call("delete_file", {"path": path}, call_id=call_id)
    model.add_reply("done")


def setup_function():
    CALLED.clear()


# ---------------------------------------------------------------------------- decisions


def test_approve_all_lets_the_tool_run(client, model):
    asked = []
    _script_delete(model)
    with open_session(
        client, model, tools=[delete_file], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.on(
            "permission.requested", lambda e: asked.append(e.raw["data"]["permissionRequest"])
        )
        session.send_and_wait("delete /tmp/x", timeout=TIMEOUT)
    assert CALLED == ["/tmp/x"]
    (request,) = asked
    assert request["kind"] == "custom-tool" and request["toolName"] == "delete_file"
    assert request["args"] == {"path": "/tmp/x"}
    assert _tool_message(model.requests[1], "call_del") == "deleted /tmp/x"


def test_a_handler_sees_the_request_and_rejects_with_feedback(client, model):
    seen: list[tuple[PermissionRequest, dict]] = []
    completed = []

    def policy(request: PermissionRequest, invocation: dict) -> PermissionRequestResult:
        seen.append((request, invocation))
        return PermissionRequestResult(
            kind="reject", feedback="Deleting files is not allowed here."
        )

    _script_delete(model)
    with open_session(client, model, tools=[delete_file], on_permission_request=policy) as session:
        session.on("permission.completed", lambda e: completed.append(e.raw["data"]))
        reply = session.send_and_wait("delete /tmp/x", timeout=TIMEOUT)
        session_id = session.session_id

    assert reply.data.content == "done"
    assert CALLED == []  # rejected: the tool never ran
    ((request, invocation),) = seen
    assert request.kind == "custom-tool"
    assert request.tool_name == "delete_file"
    assert request.args == {"path": "/tmp/x"}
    assert request.tool_call_id == "call_del"
    assert request["toolName"] == "delete_file"
    assert invocation["session_id"] == session_id
    seen_by_model = _tool_message(model.requests[1], "call_del")
    assert (
        seen_by_model
        == "The user rejected this tool call. User feedback: Deleting files is not allowed here."
    )
    assert completed and completed[0]["result"]["kind"] == "denied-interactively-by-user"


def test_reject_without_feedback_ends_the_turn(client, model):
    """Observed on 1.0.81: a bare ``reject`` stops the agent loop (the CLI waits for the user),
    while a ``reject`` with feedback gives the model the feedback and carries on."""
    done = []
    _script_delete(model, "call_bare")
    with open_session(
        client, model, tools=[delete_file], on_permission_request=lambda r, i: "reject"
    ) as session:
        session.on("tool.execution_complete", lambda e: done.append(e.raw["data"]))
        reply = session.send_and_wait("delete", timeout=TIMEOUT)
    assert CALLED == []
    assert len(model.requests) == 1 and model.pending == 1  # the model was not asked again
    assert reply is not None and reply.data.content == ""  # the tool-request message: no text
    (complete,) = done
    assert complete["success"] is False
    assert complete["error"] == {"message": "The user rejected this tool call.", "code": "rejected"}


def test_deny_all_and_kind_strings(client, model):
    _script_delete(model, "call_1")
    _script_delete(model, "call_2")
    decisions = iter([PermissionHandler.deny_all, lambda r, i: "user-not-available"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_session(
            client,
            model,
            tools=[delete_file],
            on_permission_request=lambda r, i: next(decisions)(r, i),
        ) as session:
            session.send_and_wait("delete", timeout=TIMEOUT)
            session.send_and_wait("delete again", timeout=TIMEOUT)
    # a handler that chose to deny is not a missing handler
    assert not [w for w in caught if issubclass(w.category, MissingPermissionHandlerWarning)]
    assert CALLED == []
    first = _tool_message(model.requests[1], "call_1")
    assert (
        first
        == "The user rejected this tool call. User feedback: Denied by the application's permission policy."
    )
    second = _tool_message(model.requests[3], "call_2")
    assert second.startswith(DENIED)  # 1.0.102 adds a sentence (docs/CLI_VERSIONS.md)


def test_permission_request_args_are_the_plain_tool_arguments(client, model):
    seen = []

    def policy(request, invocation):
        seen.append(request.args)
        return "reject"

    model.add_tool_call("delete_file", {"path": "/tmp/x"}, call_id="call_args")
    with open_session(client, model, tools=[delete_file], on_permission_request=policy) as session:
        session.send_and_wait("delete", timeout=TIMEOUT)
    (args,) = seen
    assert isinstance(args, dict)
    assert json.loads(json.dumps(args)) == {"path": "/tmp/x"}  # e.g. to log or audit the call


def test_a_handler_that_raises_denies_and_logs(client, model, caplog):
    def broken(request, invocation):
        raise ValueError("policy file missing")

    _script_delete(model)
    with caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        with open_session(
            client, model, tools=[delete_file], on_permission_request=broken
        ) as session:
            reply = session.send_and_wait("delete", timeout=TIMEOUT)
    assert reply.data.content == "done"
    assert CALLED == []
    # answered user-not-available
    assert _tool_message(model.requests[1], "call_del").startswith(DENIED)
    assert any("permission handler failed" in r.getMessage() for r in caplog.records)


def test_approve_for_session_is_remembered(client, model):
    asked = []

    def once(request, invocation):
        asked.append(request.tool_name)
        return "approve-for-session"

    _script_delete(model, "call_1", "/a")
    _script_delete(model, "call_2", "/b")
    with open_session(client, model, tools=[delete_file], on_permission_request=once) as session:
        session.send_and_wait("delete a", timeout=TIMEOUT)
        session.send_and_wait("delete b", timeout=TIMEOUT)
    assert CALLED == ["/a", "/b"]
    assert asked == ["delete_file"]  # the second call was not asked about
    assert _tool_message(model.requests[3], "call_2") == "deleted /b"


def test_parallel_permission_requests_are_handled_together(client, model):
    barrier = threading.Barrier(2, timeout=10)

    def wait_for_both(request, invocation):
        barrier.wait()  # raises (→ denied) unless both requests are being decided at once
        return "approve-once"

    model.add_tool_calls(
        [("delete_file", {"path": "/p1"}, "c1"), ("delete_file", {"path": "/p2"}, "c2")]
    )
    model.add_reply("both")
    with open_session(
        client, model, tools=[delete_file], on_permission_request=wait_for_both
    ) as session:
        session.send_and_wait("delete both", timeout=TIMEOUT)
    assert sorted(CALLED) == ["/p1", "/p2"]
    last = model.requests[-1]
    assert {_tool_message(last, "c1"), _tool_message(last, "c2")} == {"deleted /p1", "deleted /p2"}


def test_without_a_permission_handler_the_cli_denies_and_the_sdk_says_why(client, model, caplog):
    _script_delete(model)
    with (
        caplog.at_level(logging.WARNING, logger="copilot_sync.session"),
        pytest.warns(MissingPermissionHandlerWarning, match="on_permission_request"),
        open_session(client, model, tools=[delete_file]) as session,
    ):
        reply = session.send_and_wait("delete", timeout=TIMEOUT)
    assert reply.data.content == "done"
    assert CALLED == []
    assert DENIED in _tool_message(model.requests[1], "call_del")
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "copilot_sync.session" and r.levelno == logging.WARNING
    ]
    assert any(
        "on_permission_request" in w and "PermissionHandler.approve_all" in w for w in warnings
    ), warnings


# ---------------------------------------------------------------------------- ask_user


def test_ask_user_round_trip(client, model):
    questions = []

    def answer(request: dict, invocation: dict) -> dict:
        questions.append((request, invocation))
        return {"answer": "blue", "wasFreeform": False}

    model.add_tool_call(
        "ask_user", {"question": "Which color?", "choices": ["red", "blue"]}, call_id="call_ask"
    )
    model.add_reply("You picked blue.")
    with open_session(client, model, on_user_input_request=answer) as session:
        events = []
        session.on(
            lambda e: events.append(e.raw_type) if e.raw_type.startswith("user_input.") else None
        )
        reply = session.send_and_wait("Ask me for a color", timeout=TIMEOUT)
        session_id = session.session_id

    assert reply.data.content == "You picked blue."
    assert "ask_user" in model.requests[0].tool_names
    ((request, invocation),) = questions
    assert request["question"] == "Which color?"
    assert request["choices"] == ["red", "blue"]
    assert "allowFreeform" in request
    assert invocation == {"session_id": session_id}
    assert _tool_message(model.requests[1], "call_ask") == "User selected: blue"
    assert events == ["user_input.requested", "user_input.completed"]


def test_ask_user_freeform_string_answer(client, model):
    model.add_tool_call("ask_user", {"question": "Your name?"}, call_id="call_name")
    model.add_reply("Hello Ada.")
    with open_session(
        client, model, on_user_input_request=lambda request, invocation: "Ada Lovelace"
    ) as session:
        session.send_and_wait("Ask my name", timeout=TIMEOUT)
    assert _tool_message(model.requests[1], "call_name") == "User responded: Ada Lovelace"


def test_ask_user_is_not_offered_without_a_handler(client, model):
    with open_session(client, model) as session:
        session.send_and_wait("hi", timeout=TIMEOUT)
    assert "ask_user" not in model.requests[0].tool_names


def test_a_user_input_handler_that_raises_does_not_break_the_turn(client, model, caplog):
    def broken(request, invocation):
        raise RuntimeError("no terminal")

    model.add_tool_call("ask_user", {"question": "Name?"}, call_id="call_broken")
    model.add_reply("I could not ask.")
    with caplog.at_level(logging.ERROR):
        with open_session(client, model, on_user_input_request=broken) as session:
            reply = session.send_and_wait("ask", timeout=TIMEOUT)
    assert reply.data.content == "I could not ask."
    # Observed on 1.0.81: the CLI turns the JSON-RPC error into this text.
    assert (
        _tool_message(model.requests[1], "call_broken")
        == "User responded: The user was unable to respond due to an error"
    )
    assert any(r.exc_info and "no terminal" in str(r.exc_info[1]) for r in caplog.records)
