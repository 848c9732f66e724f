"""Row 10: handlers that escape. A handler raising a BaseException that is not an Exception
(SystemExit, a KeyboardInterrupt raised by hand, a test framework's outcome such as pytest's
Failed or Skipped): the request is answered as for an Exception, the exception is logged with
its traceback, the worker (or the session's event thread) goes on, and so does the turn."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from copilot_sync import CommandDefinition, CopilotClient, PermissionHandler, define_tool
from copilot_sync.testing import FakeCLI, Reply, Scenario, ScriptedModelServer, ToolCall

from .conftest import stop_client

pytestmark = [pytest.mark.reliability_row(10), pytest.mark.timeout(120)]

_ids = itertools.count(1)

ESCAPES = {
    "SystemExit": lambda: SystemExit(3),
    "KeyboardInterrupt": lambda: KeyboardInterrupt("raised by hand"),
    "pytest.fail": lambda: pytest.fail.Exception(
        "a test assertion inside a handler", pytrace=False
    ),
    "pytest.skip": lambda: pytest.skip.Exception("skipped inside a handler"),
}


class Escaping:
    """One handler of every kind, each raising the same BaseException."""

    def __init__(self, make_error) -> None:
        self.make_error = make_error
        self.ran: dict[str, int] = {}
        self.lock = threading.Lock()

    def _escape(self, kind: str):
        with self.lock:
            self.ran[kind] = self.ran.get(kind, 0) + 1
        raise self.make_error()

    def options(self) -> dict:
        @define_tool(name="escaping", description="escapes")
        def tool(n: int) -> str:
            self._escape("tool")

        def hook(data, context):
            self._escape("hook")

        return {
            "tools": [tool],
            "on_permission_request": lambda request, invocation: self._escape("permission"),
            "commands": [CommandDefinition("escaping", lambda context: self._escape("command"))],
            "on_elicitation_request": lambda context: self._escape("elicitation"),
            "hooks": {"on_pre_tool_use": hook},
            "on_user_input_request": lambda request, context: self._escape("user input"),
            "system_message": {
                "mode": "customize",
                "sections": {"tone": lambda content: self._escape("transform")},
            },
        }


def _broadcast(fake, session_id, event_type, data, answer_method):
    request_id = f"req-{next(_ids)}"
    fake.emit(session_id, event_type, {"requestId": request_id, **data})
    return fake.wait_for_request(
        answer_method, timeout=10, predicate=lambda m: m["params"].get("requestId") == request_id
    )["params"]


BROADCASTS = {
    "tool": (
        "external_tool.requested",
        {"toolCallId": "c1", "toolName": "escaping", "arguments": {"n": 1}},
        "session.tools.handlePendingToolCall",
    ),
    "permission": (
        "permission.requested",
        {"permissionRequest": {"kind": "shell", "fullCommandText": "ls"}},
        "session.permissions.handlePendingPermissionRequest",
    ),
    "command": (
        "command.execute",
        {"command": "/escaping now", "commandName": "escaping", "args": "now"},
        "session.commands.handlePendingCommand",
    ),
    "elicitation": (
        "elicitation.requested",
        {"message": "Sure?"},
        "session.ui.handlePendingElicitation",
    ),
}
DIRECT = {
    "hook": (
        "hooks.invoke",
        {"hookType": "preToolUse", "input": {"toolName": "bash", "toolArgs": {}}},
    ),
    "user input": ("userInput.request", {"question": "Which?", "choices": ["a", "b"]}),
    "transform": ("systemMessage.transform", {"sections": {"tone": {"content": "original tone"}}}),
}
# the documented answer for a handler that raises, whatever it raises
EXPECTED = {
    "tool": lambda a, name: name in a.get("error", ""),
    "permission": lambda a, name: a["result"] == {"kind": "user-not-available"},
    "command": lambda a, name: name in a.get("error", ""),
    "elicitation": lambda a, name: a["result"] == {"action": "cancel"},
    "hook": lambda r, name: r.get("result") == {},
    "user input": lambda r, name: "error" in r and name in r["error"].get("message", ""),
    "transform": lambda r, name: r["result"]["sections"]["tone"]["content"] == "original tone",
}


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_every_handler_kind_escaping_is_answered_and_logged(escape, record, caplog):
    """Two workers, seven handler kinds, each raising a BaseException twice: all 14 answered."""
    caplog.set_level(logging.ERROR, logger="copilot_sync")
    name = type(ESCAPES[escape]()).__name__
    escaping = Escaping(ESCAPES[escape])
    answers: dict[str, list] = {}
    with FakeCLI(Scenario()) as fake:
        # two workers for fourteen escaping handlers: a worker that died would leave requests unanswered
        client = CopilotClient(cli_path=fake.cli_path, max_workers=2)
        client.start()
        try:
            session = client.create_session(**escaping.options())
            sid = session.session_id
            began = time.monotonic()
            for _ in range(2):
                for kind, (event_type, data, method) in BROADCASTS.items():
                    answers.setdefault(kind, []).append(
                        _broadcast(fake, sid, event_type, data, method)
                    )
                for kind, (method, params) in DIRECT.items():
                    answers.setdefault(kind, []).append(
                        fake.request(method, {"sessionId": sid, **params})
                    )
            took = time.monotonic() - began
            reply = session.send_and_wait("carry on", timeout=10)
            assert reply.data.content == "echo: carry on"
        finally:
            stop_client(client)
    wrong = {
        kind: got for kind, got in answers.items() if not all(EXPECTED[kind](a, name) for a in got)
    }
    assert not wrong, wrong
    assert escaping.ran == dict.fromkeys([*BROADCASTS, *DIRECT], 2), escaping.ran
    logged = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.exc_info and r.exc_info[0].__name__ == name
    ]
    assert len(logged) >= 14, [r.getMessage() for r in caplog.records]
    record(
        f"tool, permission, command, elicitation, hook, user input, transform handlers raising {escape} (x2, 2 workers)",
        figure=f"14 requests answered in {took:.2f} s",
        outcome="each answered with the documented default or an error naming the exception; "
        "logged with traceback (logger.exception); the workers and the session go on",
    )


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_event_handlers_and_done_callbacks_escaping_release_the_waiters(escape, record, caplog):
    """An on() handler and a done callback raising a BaseException: the next ones run, waiters wake."""
    caplog.set_level(logging.ERROR, logger="copilot_sync")
    make_error = ESCAPES[escape]
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session()
            later: list[str] = []

            def escaping_handler(event):
                raise make_error()

            session.on("session.idle", escaping_handler)
            session.on("session.idle", lambda e: later.append("idle"))
            began = time.monotonic()
            reply = session.send_and_wait("first", timeout=20)
            took = time.monotonic() - began
            assert reply.data.content == "echo: first" and later == ["idle"]

            called: list[str] = []
            future = session.send_async("second", timeout=20)
            future.add_done_callback(lambda f: (_ for _ in ()).throw(make_error()))
            future.add_done_callback(lambda f: called.append(f.result().data.content))
            assert future.result(20).data.content == "echo: second"
            session.wait_for_idle(20)
            assert called == ["echo: second"]
            assert session.send_and_wait("third", timeout=20).data.content == "echo: third"
        finally:
            stop_client(client)
    assert took < 5, f"send_and_wait took {took:.2f} s behind an escaping handler"
    name = type(make_error()).__name__
    assert any(r.exc_info and r.exc_info[0].__name__ == name for r in caplog.records)
    record(
        f"on() handler and a future's done callback raising {escape}",
        figure=f"send_and_wait returned in {took * 1000:.0f} ms",
        outcome="logged; the next handler and callback ran; the waiter was released; later turns work",
    )


def test_escaping_handlers_on_the_real_cli(real_cli, cli_env, record, caplog):
    """Real CLI: a tool raising SystemExit, a preToolUse hook raising pytest's Failed, an on()
    handler raising KeyboardInterrupt by hand: the turn completes at once with the model's reply."""
    caplog.set_level(logging.ERROR, logger="copilot_sync")
    ran: list[str] = []

    @define_tool(skip_permission=True)
    def shutdown_tool(reason: str) -> str:
        """A tool that escapes."""
        ran.append("tool")
        raise SystemExit(f"tool gave up: {reason}")

    def hook(data, context):
        ran.append("hook")
        pytest.fail("assertion failed inside a hook", pytrace=False)

    def on_message(event):
        ran.append("on()")
        raise KeyboardInterrupt("raised by hand in an event handler")

    def respond(request):
        if request.messages and request.messages[-1].get("role") == "tool":
            return Reply(text=f"the tool said: {request.tool_results[-1]['content'][:80]}")
        return Reply(tool_calls=[ToolCall("shutdown_tool", {"reason": "testing"})])

    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        with ScriptedModelServer(responder=respond) as model:
            session = client.create_session(
                model=model.model,
                provider=model.provider(),
                tools=[shutdown_tool],
                hooks={"on_pre_tool_use": hook},
                on_permission_request=PermissionHandler.approve_all,
            )
            session.on("assistant.message", on_message)
            began = time.monotonic()
            reply = session.send_and_wait("use the tool", timeout=60)
            took = time.monotonic() - began
            after = session.send_and_wait("again", timeout=60)
            session.disconnect()
    finally:
        stop_client(client)
    assert "hook" in ran and "tool" in ran and "on()" in ran, ran
    assert reply.data.content.startswith("the tool said:"), reply.data.content
    assert after.data.content.startswith("the tool said:")
    assert took < 15, took
    names = {r.exc_info[0].__name__ for r in caplog.records if r.exc_info}
    assert {"SystemExit", "Failed", "KeyboardInterrupt"} <= names, names
    record(
        "real CLI: define_tool raising SystemExit, preToolUse hook raising pytest's Failed, on() raising KeyboardInterrupt",
        figure=f"turn completed in {took:.2f} s",
        outcome="hook answered with no output, the tool ran and the model got a failure; all three logged; next turn works",
    )
