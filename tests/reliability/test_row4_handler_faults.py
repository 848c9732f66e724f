"""Row 4: every handler type raising, returning junk, or hanging. The CLI always gets the
documented default answer, the fault is logged, the session carries on, and stop() is bounded."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from copilot_sync import CommandDefinition, ConnectionState, CopilotClient, define_tool
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import stop_client

pytestmark = [pytest.mark.reliability_row(4), pytest.mark.timeout(60)]

_ids = itertools.count(1)


class Faulty:
    """One handler of every type, all misbehaving the same way (``mode``)."""

    JUNK = object()

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.release = threading.Event()
        self.entered: dict[str, threading.Event] = {}

    def _act(self, kind: str, junk):
        self.entered.setdefault(kind, threading.Event()).set()
        if self.mode == "raises":
            raise RuntimeError(f"{kind} handler failed on purpose")
        if self.mode == "hangs":
            self.release.wait(30)
        return junk

    def options(self) -> dict:
        @define_tool(name="faulty", description="misbehaves")
        def tool(n: int) -> object:
            return self._act("tool", {"not json": object()})

        def hook(data, context):
            return self._act("hook", 42)

        return {
            "tools": [tool],
            "on_permission_request": lambda request, invocation: self._act("permission", 42),
            "commands": [
                CommandDefinition("faulty", lambda context: self._act("command", object()))
            ],
            "on_elicitation_request": lambda context: self._act("elicitation", 42),
            "hooks": {"on_pre_tool_use": hook},
            "on_user_input_request": lambda request, context: self._act("user input", 42),
            "system_message": {
                "mode": "customize",
                "sections": {"tone": lambda content: self._act("transform", 42)},
            },
        }


def _broadcast(fake, session_id, event_type, data, answer_method):
    request_id = f"req-{next(_ids)}"
    fake.emit(session_id, event_type, {"requestId": request_id, **data})
    return lambda timeout=5: fake.wait_for_request(
        answer_method,
        timeout=timeout,
        predicate=lambda m: m["params"].get("requestId") == request_id,
    )["params"]


TRIGGERS = {
    "tool": lambda fake, sid: _broadcast(
        fake,
        sid,
        "external_tool.requested",
        {"toolCallId": "c1", "toolName": "faulty", "arguments": {"n": 1}},
        "session.tools.handlePendingToolCall",
    ),
    "permission": lambda fake, sid: _broadcast(
        fake,
        sid,
        "permission.requested",
        {"permissionRequest": {"kind": "shell", "fullCommandText": "ls"}},
        "session.permissions.handlePendingPermissionRequest",
    ),
    "command": lambda fake, sid: _broadcast(
        fake,
        sid,
        "command.execute",
        {"command": "/faulty now", "commandName": "faulty", "args": "now"},
        "session.commands.handlePendingCommand",
    ),
    "elicitation": lambda fake, sid: _broadcast(
        fake,
        sid,
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

# what the CLI must receive: (description, check)
EXPECTED = {
    ("tool", "raises"): (
        "`error`: the exception's message",
        lambda a: "failed on purpose" in a.get("error", ""),
    ),
    ("tool", "junk"): (
        "`error`: 'returned a value that is not JSON'",
        lambda a: "not JSON" in a.get("error", ""),
    ),
    ("permission", "raises"): (
        "`{kind: user-not-available}`",
        lambda a: a["result"] == {"kind": "user-not-available"},
    ),
    ("permission", "junk"): (
        "`{kind: user-not-available}`",
        lambda a: a["result"] == {"kind": "user-not-available"},
    ),
    ("command", "raises"): (
        "`error`: the exception's message",
        lambda a: "failed on purpose" in a.get("error", ""),
    ),
    ("command", "junk"): (
        "success (a command's return value is ignored)",
        lambda a: "error" not in a,
    ),
    ("elicitation", "raises"): (
        "`{action: cancel}`",
        lambda a: a["result"] == {"action": "cancel"},
    ),
    ("elicitation", "junk"): ("`{action: cancel}`", lambda a: a["result"] == {"action": "cancel"}),
    ("hook", "raises"): ("`{}` (no output)", lambda r: r.get("result") == {}),
    ("hook", "junk"): ("`{}` (no output)", lambda r: r.get("result") == {}),
    ("user input", "raises"): ("JSON-RPC error", lambda r: "error" in r),
    ("user input", "junk"): (
        "JSON-RPC error naming the expected shape",
        lambda r: "answer" in r.get("error", {}).get("message", ""),
    ),
    ("transform", "raises"): (
        "the section's original content",
        lambda r: r["result"]["sections"]["tone"]["content"] == "original tone",
    ),
    ("transform", "junk"): (
        "the section's original content",
        lambda r: r["result"]["sections"]["tone"]["content"] == "original tone",
    ),
}


@pytest.mark.parametrize("mode", ["raises", "junk"])
def test_every_handler_type_raising_or_returning_junk(mode, record, caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync")
    faulty = Faulty(mode)
    results = {}
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, max_workers=4)
        client.start()
        try:
            session = client.create_session(**faulty.options())
            sid = session.session_id
            for kind, trigger in TRIGGERS.items():
                results[kind] = trigger(fake, sid)()
            for kind, (method, params) in DIRECT.items():
                results[kind] = fake.request(method, {"sessionId": sid, **params})

            # event handlers and a lifecycle handler, too
            def bad_event_handler(event):
                if mode == "raises":
                    raise RuntimeError("event handler failed on purpose")
                return faulty.JUNK

            session.on(bad_event_handler)
            client.on_lifecycle(lambda event: 1 / 0 if mode == "raises" else faulty.JUNK)
            reply = session.send_and_wait("carry on", timeout=10)
            other = client.create_session()
            other_reply = other.send_and_wait("other", timeout=10)
            assert (
                reply.data.content == "echo: carry on" and other_reply.data.content == "echo: other"
            )
            assert client.state is ConnectionState.CONNECTED
        finally:
            stop_client(client)
    failures = []
    for kind, answer in results.items():
        description, check = EXPECTED[(kind, mode)]
        ok = check(answer)
        if not ok:
            failures.append((kind, answer))
        record(
            f"{kind.capitalize()} handler {'raising' if mode == 'raises' else 'returning junk'}",
            figure="1 request",
            outcome=f"answered with {description}" + ("" if ok else f" — GOT {answer}"),
        )
    text = caplog.text
    logged = [
        kind
        for kind in results
        if kind.split()[0] in text or (kind == "permission" and "permission" in text)
    ]
    if mode == "raises":
        assert "event handler" in text and "lifecycle handler" in text
    record(
        f"Event (on) and lifecycle handlers {'raising' if mode == 'raises' else 'returning junk'}",
        figure="every event of a turn",
        outcome=("logged with traceback" if mode == "raises" else "ignored")
        + "; later handlers and send_and_wait still get every event",
    )
    record(
        f"Session and client after all the {'raising' if mode == 'raises' else 'junk'} handlers",
        figure=f"{len(results)} handler types faulted; {len(logged)} logged at WARNING or above",
        outcome="the same session and a new one complete turns; state=connected",
    )
    assert not failures, failures
    assert len(logged) >= (len(results) if mode == "raises" else 5), (logged, text[-2000:])


def test_hung_handlers_do_not_stop_the_session_and_stop_is_bounded(record):
    faulty = Faulty("hangs")
    try:
        with FakeCLI(Scenario()) as fake:
            client = CopilotClient(cli_path=fake.cli_path, max_workers=8)
            client.start()
            try:
                session = client.create_session(**faulty.options())
                sid = session.session_id
                for trigger in TRIGGERS.values():
                    trigger(fake, sid)
                askers = []
                for method, params in DIRECT.values():
                    thread = threading.Thread(
                        target=lambda m=method, p=params: _quiet(
                            fake.request, m, {"sessionId": sid, **p}, 20
                        ),
                        daemon=True,
                    )
                    thread.start()
                    askers.append(thread)
                for kind in [*TRIGGERS, *DIRECT]:
                    assert faulty.entered.setdefault(kind, threading.Event()).wait(5), (
                        f"{kind} never ran"
                    )
                hung = len(faulty.entered)
                # the session's own events are not held up by 7 hung workers
                began = time.monotonic()
                assert (
                    session.send_and_wait("still here?", timeout=10).data.content
                    == "echo: still here?"
                )
                other = client.create_session()
                assert other.send_and_wait("me too", timeout=10).data.content == "echo: me too"
                turn = time.monotonic() - began
                # a hung event handler delays only its own session
                blocker = threading.Event()
                slow = client.create_session()
                slow.on("assistant.message", lambda e: blocker.wait(30))
                slow.send("I will hang my event thread")
                assert (
                    other.send_and_wait("unaffected", timeout=10).data.content == "echo: unaffected"
                )
                began = time.monotonic()
                errors = client.stop(timeout=10)
                stop_seconds = time.monotonic() - began
                blocker.set()
            finally:
                faulty.release.set()
                if client.state is not ConnectionState.DISCONNECTED:
                    client.force_stop()
    finally:
        faulty.release.set()
    assert stop_seconds < 10, stop_seconds
    assert client.state is ConnectionState.DISCONNECTED
    record(
        "Handlers hanging: tool, permission, command, elicitation, hook, user input, transform",
        figure=f"{hung} workers hung at once; two sessions then completed turns in {turn * 1000:.0f} ms",
        outcome="the session carries on (its events never wait for a worker)",
    )
    record(
        "An on() handler hanging",
        figure="1 session's event thread blocked",
        outcome="only that session waits; the others' turns complete",
    )
    record(
        "stop() with 7 hung workers and a hung event thread",
        figure=f"returned in {stop_seconds:.2f} s (timeout 10 s); problems reported: {len(errors)}",
        outcome="bounded; hung daemon threads are left behind and logged, never joined forever",
    )


def _quiet(fn, *args):
    try:
        fn(*args)
    except Exception:
        pass


class _BrokenFs:
    """A SessionFsHandler whose every method raises, returns junk, or hangs."""

    def __new__(cls, mode: str, release: threading.Event):
        from copilot_sync import SessionFsHandler

        def act(*args, **kwargs):
            if mode == "raises":
                raise RuntimeError("filesystem handler failed on purpose")
            if mode == "hangs":
                release.wait(30)
            return object()  # junk

        methods = dict.fromkeys(
            (
                "read_file",
                "write_file",
                "append_file",
                "exists",
                "stat",
                "mkdir",
                "readdir",
                "readdir_with_types",
                "rm",
                "rename",
            ),
            act,
        )
        return type(f"BrokenFs_{mode}", (SessionFsHandler,), methods)()


@pytest.mark.parametrize("mode", ["raises", "junk", "hangs"])
def test_a_faulty_session_filesystem_handler(mode, record, tmp_path):
    from copilot_sync import SessionFsConfig

    release = threading.Event()
    config = SessionFsConfig(initial_cwd=str(tmp_path), session_state_path=str(tmp_path / "state"))
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, session_fs=config, max_workers=2)
        client.start()
        try:
            session = client.create_session(
                create_session_fs_handler=lambda s: _BrokenFs(mode, release)
            )
            sid = session.session_id
            calls = {
                "readFile": {"path": f"{tmp_path}/state/plan.md"},
                "writeFile": {"path": f"{tmp_path}/state/x", "content": "x"},
                "stat": {"path": f"{tmp_path}/state"},
            }
            started = time.monotonic()
            answers = {}
            for method, params in calls.items():
                try:
                    answers[method] = fake.request(
                        f"sessionFs.{method}",
                        {"sessionId": sid, **params},
                        timeout=1 if mode == "hangs" else 5,
                    )
                except Exception as exc:  # the fake's own wait ran out: the handler is still hung
                    answers[method] = exc
            reply = session.send_and_wait("still working?", timeout=10)
            assert reply.data.content == "echo: still working?"
            elapsed = time.monotonic() - started
            if mode != "hangs":
                for method in ("readFile", "stat"):  # results with fields: the error is nested
                    assert answers[method]["result"]["error"]["code"] == "UNKNOWN", answers[method]
                written = answers["writeFile"][
                    "result"
                ]  # a void operation: null, or the error itself
                assert written == (
                    {"code": "UNKNOWN", "message": written["message"]} if mode == "raises" else None
                ), written
        finally:
            stop_started = time.monotonic()
            problems = client.stop(timeout=5)  # a hung handler is still hung here
            stop_took = time.monotonic() - stop_started
            release.set()
        assert stop_took < 6
    outcome = {
        "raises": "each request answered with the schema's error result {code: UNKNOWN, message}; logged",
        "junk": "readFile/stat answered with an error result naming the bad return value; writeFile's return value is ignored (null)",
        "hangs": "those requests wait (the CLI's own timeout applies); turns and other sessions go on; stop() bounded",
    }[mode]
    record(
        f"Session filesystem handler {mode if mode != 'junk' else 'returning junk'}",
        figure=f"3 sessionFs requests; next turn done {elapsed:.2f} s later; stop() took {stop_took:.2f} s ({len(problems)} problems)",
        outcome=outcome,
    )
