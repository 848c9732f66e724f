"""Tests of the fake Copilot CLI itself (copilot_sync.testing.FakeCLI), driven by a tiny raw
JSON-RPC peer over real pipes and sockets: no SDK involved."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from copilot_sync._wire.framing import FrameReader, FramingError, encode_frame
from copilot_sync.testing._fake_cli import (
    FakeCLI,
    FakeCLIError,
    FakeCLITimeout,
    Rule,
    Scenario,
    close_stdout,
    default,
    error,
    events,
    exit,
    kill,
    raw,
    reply,
    request,
    sleep,
    stall,
)

pytestmark = pytest.mark.timeout(60)

ARGS = ["--headless", "--no-auto-update", "--log-level", "info"]
NS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Peer:
    """A minimal JSON-RPC client: integer ids from 1, every incoming message kept in order."""

    def __init__(
        self,
        rfile: Any,
        write: Callable[[bytes], Any],
        on_request: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> None:
        self._write = write
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._on_request = on_request
        self.cond = threading.Condition()
        self.messages: list[dict[str, Any]] = []
        self.eof = False
        self.error: Exception | None = None
        self._thread = threading.Thread(
            target=self._read, args=(rfile,), name="copilot-fake-test-peer", daemon=True
        )
        self._thread.start()

    def _read(self, rfile: Any) -> None:
        reader = FrameReader(rfile)
        try:
            while (body := reader.read_frame()) is not None:
                msg = json.loads(body)
                if "method" in msg and "id" in msg and self._on_request is not None:
                    answer = self._on_request(msg)
                    if answer is not None:
                        self.send({"jsonrpc": "2.0", "id": msg["id"], **answer})
                with self.cond:
                    self.messages.append(msg)
                    self.cond.notify_all()
        except (FramingError, OSError, ValueError) as exc:
            self.error = exc
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def send(self, msg: dict[str, Any]) -> None:
        with self._write_lock:
            self._write(encode_frame(json.dumps(msg).encode()))

    def start_call(self, method: str, params: Any = None) -> int:
        msg_id = next(self._ids)
        self.send(
            {
                "jsonrpc": "2.0",
                "id": msg_id,
                "method": method,
                "params": {} if params is None else params,
            }
        )
        return msg_id

    def call(self, method: str, params: Any = None, timeout: float = 5.0) -> dict[str, Any]:
        msg_id = self.start_call(method, params)
        return self.messages[self.index_of(msg_id, timeout)]

    def index_of(self, msg_id: int, timeout: float = 5.0) -> int:
        return self.wait(lambda m: "method" not in m and m.get("id") == msg_id, timeout)

    def wait(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0, start: int = 0
    ) -> int:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.messages)):
                    if predicate(self.messages[i]):
                        return i
                start = len(self.messages)
                if self.eof:
                    raise EOFError(f"connection ended ({self.error}) while waiting")
                if (
                    not self.cond.wait(max(0.0, deadline - time.monotonic()))
                    and time.monotonic() >= deadline
                ):
                    raise TimeoutError("message not received in time")

    def wait_event(self, etype: str, timeout: float = 5.0, start: int = 0) -> int:
        return self.wait(
            lambda m: m.get("method") == "session.event" and m["params"]["event"]["type"] == etype,
            timeout,
            start,
        )

    def events(self, sid: str | None = None) -> list[dict[str, Any]]:
        with self.cond:
            return [
                m["params"]["event"]
                for m in self.messages
                if m.get("method") == "session.event"
                and (sid is None or m["params"]["sessionId"] == sid)
            ]

    def wait_eof(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof:
                assert self.cond.wait(max(0.0, deadline - time.monotonic())) or self.eof, (
                    "no end of stream"
                )


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


@pytest.fixture
def fake():
    with FakeCLI() as controller:
        yield controller


def spawn_stdio(
    fake: FakeCLI,
    procs: list,
    *extra: str,
    env: dict[str, str] | None = None,
    on_request: Callable | None = None,
) -> tuple[subprocess.Popen, Peer]:
    proc = subprocess.Popen(
        [fake.cli_path, *ARGS, *extra, "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    procs.append(proc)

    def write(data: bytes) -> None:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()

    return proc, Peer(proc.stdout, write, on_request)


def spawn_tcp(
    fake: FakeCLI, procs: list, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [fake.cli_path, *ARGS, "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env,
    )
    procs.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    match = re.fullmatch(r"CLI server listening on port (\d+)\n", line)
    assert match, line
    return proc, int(match.group(1))


def tcp_peer(port: int, on_request: Callable | None = None) -> tuple[socket.socket, Peer]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(None)
    return sock, Peer(sock.makefile("rb"), sock.sendall, on_request)


def create(peer: Peer, sid: str, **params: Any) -> dict[str, Any]:
    response = peer.call("session.create", {"sessionId": sid, **params})
    assert response["result"]["sessionId"] == sid, response
    return response["result"]


def turn_types(peer: Peer, sid: str, start_after: str = "session.start") -> list[str]:
    types = [e["type"] for e in peer.events(sid)]
    return types[types.index(start_after) + 1 :] if start_after in types else types


# --------------------------------------------------------------------------- handshake


def test_stdio_handshake_defaults_and_instance_report(fake, procs):
    env = dict(os.environ, COPILOT_SDK_AUTH_TOKEN="gho_secret", COPILOT_HOME="/tmp/nowhere-home")
    env.pop("COPILOT_CONNECTION_TOKEN", None)
    proc, peer = spawn_stdio(
        fake, procs, "--auth-token-env", "COPILOT_SDK_AUTH_TOKEN", "--no-auto-login", env=env
    )
    assert peer.call("connect", {})["result"] == {
        "ok": True,
        "protocolVersion": 3,
        "version": "1.0.81-fake",
    }
    pong = peer.call("ping")["result"]
    assert (
        pong["message"] == "pong"
        and pong["protocolVersion"] == 3
        and NS_TIMESTAMP.match(pong["timestamp"])
    )
    assert peer.call("ping", {"message": "hi"})["result"]["message"] == "pong: hi"
    assert peer.call("status.get")["result"] == {"version": "0.0.1", "protocolVersion": 3}
    assert peer.call("auth.getStatus")["result"] == {
        "isAuthenticated": False,
        "statusMessage": "Not authenticated",
    }
    models = peer.call("models.list")["result"]["models"]
    assert len(models) == 2
    for model in models:
        assert {"id", "name", "capabilities", "policy", "billing"} <= set(model)
        assert set(model["capabilities"]["supports"]) >= {"vision", "reasoningEffort"}
        assert {"max_prompt_tokens", "max_context_window_tokens"} <= set(
            model["capabilities"]["limits"]
        )
    unknown = peer.call("foo.bar")
    assert unknown["error"] == {"code": -32601, "message": "Unhandled method foo.bar"}
    assert peer.call("session.getForeground")["result"] == {}
    assert peer.call("session.setForeground", {"sessionId": "x"})["result"] == {
        "success": False,
        "error": "Not running in TUI+server mode - no foreground session change handler registered",
    }
    peer.send(
        {"jsonrpc": "2.0", "method": "ping", "params": {}}
    )  # a notification: ignored, but recorded
    assert peer.call("session.getLastId")["result"] == {}

    inst = fake.wait_for_instance()
    assert inst.pid == proc.pid == fake.pid and inst.mode == "stdio" and inst.index == 0
    assert inst.argv == [
        *ARGS,
        "--auth-token-env",
        "COPILOT_SDK_AUTH_TOKEN",
        "--no-auto-login",
        "--stdio",
    ]
    assert (
        inst.env["COPILOT_SDK_AUTH_TOKEN"] == "gho_secret"
        and inst.env["COPILOT_HOME"] == "/tmp/nowhere-home"
    )
    assert "COPILOT_CONNECTION_TOKEN" not in inst.env
    assert [m["method"] for m in fake.received] == [
        "connect",
        "ping",
        "ping",
        "status.get",
        "auth.getStatus",
        "models.list",
        "foo.bar",
        "session.getForeground",
        "session.setForeground",
        "ping",
        "session.getLastId",
    ]
    assert fake.wait_for_request("ping")["params"] == {}
    assert fake.wait_for_request("ping")["params"] == {"message": "hi"}
    assert "id" not in fake.wait_for_request("ping")  # the notification
    with pytest.raises(FakeCLITimeout):
        fake.wait_for_request("ping", timeout=0.2)
    assert (
        fake.wait_for_request(None, predicate=lambda m: m["method"].startswith("auth."))["method"]
        == "auth.getStatus"
    )


@pytest.mark.parametrize(
    "scenario, connect, ping",
    [
        (
            Scenario(protocol_version=2, version="9.9.9"),
            {"result": {"ok": True, "protocolVersion": 2, "version": "9.9.9"}},
            {"protocolVersion": 2},
        ),
        (
            Scenario(connect_unhandled=True),
            {"error": {"code": -32601, "message": "Unhandled method connect"}},
            {"protocolVersion": 3},
        ),
        (
            Scenario(connect_unhandled=True, ping_without_version=True),
            {"error": {"code": -32601, "message": "Unhandled method connect"}},
            {},
        ),
        (Scenario(protocol_version=None), {"result": {"ok": True, "version": "1.0.81-fake"}}, {}),
    ],
)
def test_version_overrides_and_legacy_connect(procs, scenario, connect, ping):
    with FakeCLI(scenario) as fake:
        _, peer = spawn_stdio(fake, procs)
        got = peer.call("connect", {})
        got.pop("jsonrpc"), got.pop("id")
        assert got == connect
        pong = peer.call("ping", {"message": None})["result"]
        assert pong["message"] == "pong"
        assert {k: v for k, v in pong.items() if k == "protocolVersion"} == ping


def test_token_rules_over_tcp(fake, procs):
    env = dict(os.environ, COPILOT_CONNECTION_TOKEN="s3cret")
    proc, port = spawn_tcp(fake, procs, env)
    inst = fake.wait_for_instance()
    assert (
        inst.mode == "tcp"
        and inst.port == port
        and inst.env["COPILOT_CONNECTION_TOKEN"] == "s3cret"
    )
    sock, peer = tcp_peer(port)
    with sock:
        assert peer.call("ping")["error"]["code"] == -32001
        assert peer.call("session.list")["error"]["code"] == -32001
        assert peer.call("connect", {})["error"]["code"] == -32002
        assert peer.call("connect", {"token": "wrong"})["error"]["code"] == -32002
        assert peer.call("connect", {"token": "s3cret"})["result"]["ok"] is True
        assert peer.call("ping")["result"]["message"] == "pong"
        other_sock, other = tcp_peer(port)  # authentication is per connection
        with other_sock:
            assert other.call("ping")["error"]["code"] == -32001
    proc.kill()
    proc.wait(5)
    assert proc.stdout is not None and proc.stdout.read() == b""  # nothing after the announcement


def test_no_token_configured(fake, procs):
    env = {k: v for k, v in os.environ.items() if k != "COPILOT_CONNECTION_TOKEN"}
    _, port = spawn_tcp(fake, procs, env)
    sock, peer = tcp_peer(port)
    with sock:
        assert peer.call("ping")["result"]["message"] == "pong"  # no token: no gate
        assert peer.call("connect", {"token": "t"})["error"]["code"] == -32003
        assert peer.call("connect", {})["result"]["ok"] is True
    _, stdio = spawn_stdio(fake, procs, env=env)  # stdio never has a token
    assert stdio.call("connect", {"token": "t"})["error"]["code"] == -32003


# --------------------------------------------------------------------------- sessions and turns


def test_create_sends_lifecycle_before_the_response_and_session_start_after(fake, procs):
    _, peer = spawn_stdio(fake, procs)
    msg_id = peer.start_call(
        "session.create", {"sessionId": "s1", "requestElicitation": True, "model": "gpt-4o"}
    )
    lifecycle = peer.wait(lambda m: m.get("method") == "session.lifecycle")
    response = peer.index_of(msg_id)
    start = peer.wait_event("session.start")
    assert lifecycle < response < start
    notice = peer.messages[lifecycle]["params"]
    assert notice["type"] == "session.created" and notice["sessionId"] == "s1"
    assert (
        MS_TIMESTAMP.match(notice["metadata"]["startTime"]) and "modifiedTime" in notice["metadata"]
    )
    result = peer.messages[response]["result"]
    assert result["workspacePath"] == os.path.join(fake.dir, "home", "session-state", "s1")
    assert os.path.isdir(result["workspacePath"])
    assert result["capabilities"] == {
        "ui": {"elicitation": True, "mcpApps": False, "canvases": False},
        "extensions": False,
    }
    event = peer.messages[start]["params"]["event"]
    assert (
        event["parentId"] is None
        and MS_TIMESTAMP.match(event["timestamp"])
        and "ephemeral" not in event
    )
    assert event["data"]["sessionId"] == "s1" and event["data"]["version"] == 1
    assert (
        event["data"]["producer"] == "copilot-agent" and event["data"]["selectedModel"] == "gpt-4o"
    )
    # a cloud-style create without an id gets one assigned
    assigned = peer.call("session.create", {})["result"]["sessionId"]
    assert assigned and assigned != "s1"


def test_send_emits_a_turn_per_message_and_one_shared_idle(procs):
    with FakeCLI(Scenario(think_time=0.3)) as fake:
        _, peer = spawn_stdio(fake, procs)
        create(peer, "s1")
        ids = [
            peer.start_call("session.send", {"sessionId": "s1", "prompt": p})
            for p in ("a", "b", "c")
        ]
        responses = [peer.messages[peer.index_of(i)]["result"]["messageId"] for i in ids]
        assert len(set(responses)) == 3
        idle = peer.wait_event("session.idle")
        assert peer.index_of(ids[0]) < peer.wait_event("user.message")  # the response comes first
        turn = ["user.message", "assistant.turn_start", "assistant.message", "assistant.turn_end"]
        assert turn_types(peer, "s1") == turn * 3 + ["assistant.idle", "session.idle"]
        evs = peer.events("s1")
        users = [e["data"] for e in evs if e["type"] == "user.message"]
        assert [(u["content"], u["delivery"]) for u in users] == [
            ("a", "idle"),
            ("b", "queued"),
            ("c", "queued"),
        ]
        assert [e["data"]["content"] for e in evs if e["type"] == "assistant.message"] == [
            "echo: a",
            "echo: b",
            "echo: c",
        ]
        assert all(
            e["data"]["turnId"] == "0" for e in evs if e["type"].startswith("assistant.turn")
        )
        assert [e["parentId"] for e in evs] == [None] + [e["id"] for e in evs[:-1]]
        assert (
            evs[-1]["ephemeral"] is True and evs[-1]["data"] == {} and evs[-2]["ephemeral"] is True
        )
        with pytest.raises(TimeoutError):
            peer.wait_event("session.idle", timeout=0.5, start=idle + 1)
        # wait:true answers only after the idle
        msg_id = peer.start_call("session.send", {"sessionId": "s1", "prompt": "w", "wait": True})
        assert peer.wait_event("session.idle", start=idle + 1) < peer.index_of(msg_id)
        unknown = peer.call("session.send", {"sessionId": "nope", "prompt": "x"})
        assert unknown["error"] == {
            "code": -32603,
            "message": "Request session.send failed with message: Session not found: nope",
        }


def test_streaming_reply_overrides_and_turn_errors(procs):
    scenario = Scenario(
        streaming_chunks=4, reply_text="global reply", replies={"s2": "custom {prompt}"}
    )
    with FakeCLI(scenario) as fake:
        _, peer = spawn_stdio(fake, procs)
        create(peer, "s1", streaming=True)
        create(peer, "s2")
        peer.call("session.send", {"sessionId": "s1", "prompt": "x"})
        peer.wait_event("session.idle")
        evs = [e for e in peer.events("s1") if e["type"] != "session.start"]
        assert [e["type"] for e in evs] == [
            "user.message",
            "assistant.turn_start",
            "assistant.message_start",
        ] + ["assistant.message_delta"] * 4 + [
            "assistant.message",
            "assistant.turn_end",
            "assistant.idle",
            "session.idle",
        ]
        deltas = [e for e in evs if e["type"] == "assistant.message_delta"]
        message = next(e for e in evs if e["type"] == "assistant.message")["data"]
        assert all(e["ephemeral"] is True for e in deltas) and evs[2]["ephemeral"] is True
        assert (
            "".join(d["data"]["deltaContent"] for d in deltas)
            == message["content"]
            == "global reply"
        )
        assert {d["data"]["messageId"] for d in deltas} == {message["messageId"]} and message[
            "toolRequests"
        ] == []

        peer.call("session.send", {"sessionId": "s2", "prompt": "yo"})
        last = peer.wait_event(
            "session.idle",
            start=peer.wait_event("user.message", start=peer.wait_event("session.idle") + 1),
        )
        assert [
            e["data"]["content"] for e in peer.events("s2") if e["type"] == "assistant.message"
        ] == ["custom yo"]
        assert "assistant.message_delta" not in [
            e["type"] for e in peer.events("s2")
        ]  # not streaming

        fake.set_reply("later {prompt}", "s2")
        fake.set_turn_error("boom", "s1")
        peer.call("session.send", {"sessionId": "s2", "prompt": "z"})
        last = peer.wait(
            lambda m: (
                m.get("method") == "session.event"
                and m["params"]["sessionId"] == "s2"
                and m["params"]["event"]["type"] == "session.idle"
            ),
            start=last + 1,
        )
        assert [
            e["data"]["content"] for e in peer.events("s2") if e["type"] == "assistant.message"
        ][-1] == "later z"
        peer.call("session.send", {"sessionId": "s1", "prompt": "fail"})
        peer.wait(
            lambda m: (
                m.get("method") == "session.event"
                and m["params"]["sessionId"] == "s1"
                and m["params"]["event"]["type"] == "session.idle"
            ),
            start=last + 1,
        )
        tail = [e["type"] for e in peer.events("s1")][-5:]
        assert tail == [
            "user.message",
            "assistant.turn_start",
            "session.error",
            "assistant.idle",
            "session.idle",
        ]
        assert peer.events("s1")[-3]["data"] == {"errorType": "query", "message": "boom"}


def test_abort_ends_a_running_turn(procs):
    with FakeCLI(Scenario(think_time=10)) as fake:
        _, peer = spawn_stdio(fake, procs)
        create(peer, "s1")
        assert peer.call("session.abort", {"sessionId": "s1"})["result"] == {
            "success": True
        }  # idle: only `abort`
        assert turn_types(peer, "s1") == ["abort"]
        began = time.monotonic()
        peer.call("session.send", {"sessionId": "s1", "prompt": "long"})
        peer.call("session.send", {"sessionId": "s1", "prompt": "queued, dropped by the abort"})
        peer.wait_event("assistant.turn_start")
        assert peer.call("session.abort", {"sessionId": "s1"})["result"] == {"success": True}
        peer.wait_event("session.idle")
        assert time.monotonic() - began < 5
        evs = peer.events("s1")
        assert [e["type"] for e in evs][-5:] == [
            "user.message",
            "assistant.turn_start",
            "abort",
            "assistant.idle",
            "session.idle",
        ]
        assert evs[-3]["data"] == {"reason": "user_initiated"}
        assert evs[-2]["data"] == {"aborted": True} and evs[-1]["data"] == {"aborted": True}
        assert "assistant.message" not in [e["type"] for e in evs]
        assert "result" in peer.call(
            "session.getMessages", {"sessionId": "s1"}
        )  # the session stays usable


def test_get_messages_log_and_model_switch(fake, procs):
    _, peer = spawn_stdio(fake, procs)
    create(peer, "s1", streaming=True, model="gpt-4o")
    peer.call("session.send", {"sessionId": "s1", "prompt": "hello"})
    peer.wait_event("session.idle")
    info = peer.call("session.log", {"sessionId": "s1", "message": "note"})["result"]["eventId"]
    warn = peer.call("session.log", {"sessionId": "s1", "message": "careful", "level": "warning"})[
        "result"
    ]["eventId"]
    err = peer.call(
        "session.log", {"sessionId": "s1", "message": "bad", "level": "error", "ephemeral": True}
    )
    switched = peer.call(
        "session.model.switchTo", {"sessionId": "s1", "modelId": "claude-sonnet-4.5"}
    )["result"]
    assert switched == {
        "status": "applied",
        "deferred": False,
        "modelId": "claude-sonnet-4.5",
        "message": "",
        "deprecationWarnings": [],
    }
    by_id = {e["id"]: e for e in peer.events("s1")}
    assert by_id[info]["type"] == "session.info" and by_id[info]["data"] == {
        "infoType": "notification",
        "message": "note",
    }
    assert by_id[warn]["data"] == {"warningType": "notification", "message": "careful"}
    assert by_id[err["result"]["eventId"]]["data"]["errorType"] == "notification"
    assert by_id[err["result"]["eventId"]]["ephemeral"] is True
    change = next(e for e in peer.events("s1") if e["type"] == "session.model_change")["data"]
    assert change["newModel"] == "claude-sonnet-4.5" and change["previousModel"] == "gpt-4o"
    assert (
        peer.call("session.log", {"sessionId": "s1", "message": "x", "level": "loud"})["error"][
            "code"
        ]
        == -32602
    )

    stored = peer.call("session.getMessages", {"sessionId": "s1"})["result"]["events"]
    assert stored == [e for e in peer.events("s1") if not e.get("ephemeral")]
    assert [e["type"] for e in stored] == [
        "session.start",
        "user.message",
        "assistant.turn_start",
        "assistant.message",
        "assistant.turn_end",
        "session.info",
        "session.warning",
        "session.model_change",
    ]


def test_destroy_resume_and_unknown_resume(fake, procs):
    _, peer = spawn_stdio(fake, procs)
    create(peer, "s1")
    msg_id = peer.start_call("session.destroy", {"sessionId": "s1"})
    assert peer.wait_event("session.shutdown") < peer.index_of(msg_id)
    assert peer.messages[peer.index_of(msg_id)]["result"] == {"success": True}
    assert peer.events("s1")[-1]["data"]["shutdownType"] == "routine"
    gone = peer.call("session.send", {"sessionId": "s1", "prompt": "x"})["error"]
    assert gone["message"] == "Request session.send failed with message: Session not found: s1"
    assert peer.call("session.destroy", {"sessionId": "never"})["result"] == {"success": False}

    resumed = peer.call("session.resume", {"sessionId": "s1", "streaming": True})["result"]
    assert resumed["sessionId"] == "s1" and resumed["workspacePath"].endswith(
        os.path.join("session-state", "s1")
    )
    first = peer.wait_event("session.resume")
    second = peer.wait_event("session.resume", start=first + 1)
    one, two = peer.messages[first]["params"]["event"], peer.messages[second]["params"]["event"]
    assert one == two and one["data"]["eventCount"] == 2 and one["data"]["alreadyInUse"] is False
    peer.call("session.send", {"sessionId": "s1", "prompt": "again"})
    peer.wait_event("session.idle")
    assert "assistant.message_delta" in [
        e["type"] for e in peer.events("s1")
    ]  # resume options apply

    unknown = peer.call("session.resume", {"sessionId": "ghost"})["error"]
    assert unknown == {
        "code": -32603,
        "message": "Request session.resume failed with message: Failed to load "
        "session events: Session not found: ghost",
    }


def test_list_delete_metadata_and_last_id(fake, procs):
    _, peer = spawn_stdio(fake, procs)
    create(peer, "a")
    create(peer, "b", workingDirectory="/elsewhere")
    assert peer.call("session.getLastId")["result"] == {"sessionId": "b"}
    peer.call("session.send", {"sessionId": "a", "prompt": "make a the newest"})
    peer.wait_event("session.idle")
    listed = peer.call("session.list")["result"]["sessions"]
    assert [s["sessionId"] for s in listed] == ["a", "b"]
    assert listed[0]["summary"] == "make a the newest" and listed[0]["context"] == {
        "cwd": os.getcwd()
    }
    assert {k: listed[1][k] for k in ("isRemote", "isDetached", "context")} == {
        "isRemote": False,
        "isDetached": False,
        "context": {"cwd": "/elsewhere"},
    }
    assert [
        s["sessionId"]
        for s in peer.call("session.list", {"filter": {"cwd": "/elsewhere"}})["result"]["sessions"]
    ] == ["b"]
    assert peer.call("session.getLastId")["result"] == {"sessionId": "a"}
    assert (
        peer.call("session.getMetadata", {"sessionId": "a"})["result"]["session"]["sessionId"]
        == "a"
    )
    assert peer.call("session.getMetadata", {"sessionId": "zzz"})["result"] == {}

    before = len(peer.messages)
    assert peer.call("session.delete", {"sessionId": "b"})["result"] == {"success": True}
    deleted = peer.wait(lambda m: m.get("method") == "session.lifecycle", start=before)
    assert peer.messages[deleted]["params"] == {"type": "session.deleted", "sessionId": "b"}
    assert peer.call("session.delete", {"sessionId": "b"})["result"] == {
        "success": False,
        "error": "Session file not found for b",
    }
    assert [s["sessionId"] for s in peer.call("session.list")["result"]["sessions"]] == ["a"]
    assert peer.call("session.resume", {"sessionId": "b"})["error"]["code"] == -32603


# --------------------------------------------------------------------------- the controller


def test_emit_notify_and_request_from_the_controller(fake, procs):
    answers = iter(
        [
            {"result": {"answer": "blue", "wasFreeform": False}},
            {"error": {"code": -1, "message": "no"}},
        ]
    )
    _, peer = spawn_stdio(fake, procs, on_request=lambda msg: next(answers))
    create(peer, "s1")
    start = peer.wait_event("session.start")
    start_id = peer.messages[start]["params"]["event"]["id"]

    first = fake.emit("s1", "session.info", {"infoType": "x", "message": "m"})
    second = fake.emit(
        "s1", "assistant.message_delta", {"deltaContent": "d"}, ephemeral=True, agent_id="sub-1"
    )
    third = fake.emit("s1", "custom.thing", parent_id=None, id="my-id")
    peer.wait(lambda m: m.get("params", {}).get("event", {}).get("id") == "my-id")
    evs = {e["id"]: e for e in peer.events("s1")}
    assert (
        evs[first]["parentId"] == start_id
        and "ephemeral" not in evs[first]
        and "agentId" not in evs[first]
    )
    assert (
        evs[second]["parentId"] == first
        and evs[second]["ephemeral"] is True
        and evs[second]["agentId"] == "sub-1"
    )
    assert third == "my-id" and evs["my-id"]["parentId"] is None and evs["my-id"]["data"] == {}
    ids = fake.emit_many(
        "s1", [("a.one", {"n": 1}), {"type": "a.two", "data": {"n": 2}, "ephemeral": True}]
    )
    peer.wait(lambda m: m.get("params", {}).get("event", {}).get("id") == ids[1])
    assert [e["type"] for e in peer.events("s1")][-2:] == [
        "a.one",
        "a.two",
    ]

    fake.notify("host.event", {"kind": "k"})
    assert peer.messages[peer.wait(lambda m: m.get("method") == "host.event")]["params"] == {
        "kind": "k"
    }

    answer = fake.request("userInput.request", {"sessionId": "s1", "question": "color?"})
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {"answer": "blue", "wasFreeform": False}}
    failed = fake.request("exitPlanMode.request", {"sessionId": "s1"})
    assert failed["id"] == 2 and failed["error"]["message"] == "no"
    assert fake.responses == [answer, failed]
    asked = next(m for m in peer.messages if m.get("method") == "userInput.request")
    assert asked["id"] == 1 and asked["params"]["question"] == "color?"
    with pytest.raises(FakeCLITimeout, match="no response"):
        peer._on_request = lambda msg: None  # the peer stops answering
        fake.request("userInput.request", {"sessionId": "s1"}, timeout=0.3)

    # broadcast requests emitted by a test are answered once, then completed
    fake.emit(
        "s1", "permission.requested", {"requestId": "r1", "permissionRequest": {"kind": "shell"}}
    )
    ok = peer.call(
        "session.permissions.handlePendingPermissionRequest",
        {"sessionId": "s1", "requestId": "r1", "result": {"kind": "approve-once"}},
    )
    assert ok["result"] == {"success": True}
    done = peer.messages[peer.wait_event("permission.completed")]["params"]["event"]["data"]
    assert done == {"requestId": "r1", "result": {"kind": "approve-once"}}
    late = peer.call(
        "session.permissions.handlePendingPermissionRequest",
        {"sessionId": "s1", "requestId": "r1", "result": {"kind": "reject"}},
    )
    assert late["result"] == {"success": False}
    with pytest.raises(FakeCLIError, match="unknown command"):
        fake._command("nonsense")


def test_emit_deltas_sends_100000_events_quickly_and_in_order(fake, procs):
    _, peer = spawn_stdio(fake, procs)
    create(peer, "s1")
    peer.wait_event("session.start")
    before = len(peer.messages)
    began = time.monotonic()
    message_id = fake.emit_deltas("s1", 100_000)
    peer.wait(
        lambda m: (
            m.get("params", {}).get("event", {}).get("data", {}).get("deltaContent") == "99999"
        ),
        timeout=60,
        start=before,
    )
    elapsed = time.monotonic() - began
    deltas = [m["params"]["event"] for m in peer.messages[before:]]
    assert len(deltas) == 100_000
    assert [d["data"]["deltaContent"] for d in deltas] == [str(i) for i in range(100_000)]
    assert all(
        d["type"] == "assistant.message_delta"
        and d["data"]["messageId"] == message_id
        and d["ephemeral"] is True
        for d in deltas
    )
    assert all(deltas[i]["parentId"] == deltas[i - 1]["id"] for i in range(1, len(deltas)))
    assert elapsed < 30


# --------------------------------------------------------------------------- faults


def test_kill_and_exit_are_seen_by_the_parent(fake, procs):
    proc, peer = spawn_stdio(fake, procs)
    assert peer.call("connect")["result"]["ok"]
    fake.kill()
    assert proc.wait(5) == -signal.SIGKILL
    peer.wait_eof()
    assert not fake.instance.alive
    with pytest.raises(FakeCLIError, match="not running"):
        fake.emit("s1", "session.info", {})
    with pytest.raises(FakeCLIError, match="not running"):
        fake.kill()

    proc2, peer2 = spawn_stdio(fake, procs)
    assert peer2.call("connect")["result"]["ok"]
    assert fake.wait_for_instance(index=1).pid == proc2.pid == fake.pid
    fake.exit(3)
    assert proc2.wait(5) == 3
    assert [i.index for i in fake.instances] == [0, 1] and len(fake.received) == 2


def test_scripted_exit_and_kill_actions(procs):
    scenario = Scenario(
        rules=[
            Rule("ping", match={"message": "die"}, actions=[kill()]),
            Rule("ping", match={"message": "leave"}, actions=[exit(5)]),
        ]
    )
    with FakeCLI(scenario) as fake:
        proc, peer = spawn_stdio(fake, procs)
        peer.start_call("ping", {"message": "die"})
        assert proc.wait(5) == -signal.SIGKILL
        proc, peer = spawn_stdio(fake, procs)
        assert peer.call("ping", {"message": "other"})["result"]["message"] == "pong: other"
        peer.start_call("ping", {"message": "leave"})
        assert proc.wait(5) == 5


def test_rules_reply_error_times_match_events_sleep_and_request(procs):
    scenario = Scenario(
        rules=[
            Rule(
                "ping", match={"message": "once"}, times=1, actions=[reply({"message": "scripted"})]
            ),
            Rule("status.*", actions=[error(-32000, "nope", {"why": 1})]),
            Rule("ping", match={"message": "slow"}, actions=[sleep(0.5)]),
            Rule(
                "session.create",
                match={"sessionId": "s1"},
                actions=[events([("session.info", {"infoType": "x", "message": "early"})])],
            ),
            Rule(
                "session.send",
                actions=[default(), events([{"type": "custom.after", "data": {"k": 1}}])],
            ),
            Rule(
                "session.create",
                match={"sessionId": "s2"},
                actions=[request("userInput.request", {"question": "q"}, timeout=5), default()],
            ),
        ]
    )
    with FakeCLI(scenario) as fake:
        _, peer = spawn_stdio(
            fake, procs, on_request=lambda m: {"result": {"answer": "a", "wasFreeform": True}}
        )
        assert peer.call("ping", {"message": "once"})["result"] == {"message": "scripted"}
        assert (
            peer.call("ping", {"message": "once"})["result"]["message"] == "pong: once"
        )  # times=1 used up
        assert peer.call("status.get")["error"] == {
            "code": -32000,
            "message": "nope",
            "data": {"why": 1},
        }
        slow = peer.start_call("ping", {"message": "slow"})
        fast = peer.start_call("ping", {"message": "fast"})
        assert peer.index_of(fast) < peer.index_of(slow)  # the sleeping rule does not block reading

        msg_id = peer.start_call("session.create", {"sessionId": "s1"})
        assert (
            peer.wait_event("session.info")
            < peer.index_of(msg_id)
            < peer.wait_event("session.start")
        )
        send = peer.start_call("session.send", {"sessionId": "s1", "prompt": "p"})
        assert peer.index_of(send) < peer.wait_event("custom.after")
        peer.wait_event("session.idle")

        msg_id = peer.start_call("session.create", {"sessionId": "s2"})
        assert peer.wait(lambda m: m.get("method") == "userInput.request") < peer.index_of(msg_id)
        assert fake.responses == [
            {"jsonrpc": "2.0", "id": 1, "result": {"answer": "a", "wasFreeform": True}}
        ]


def test_raw_garbage_stall_and_close_stdout(procs):
    scenario = Scenario(
        rules=[
            Rule("session.list", actions=[stall()]),
            Rule("ping", match={"message": "close"}, actions=[close_stdout()]),
            Rule(
                "ping", match={"message": "junk"}, actions=[raw(b"Content-Length: banana\r\n\r\n")]
            ),
        ]
    )
    with FakeCLI(scenario) as fake:
        proc, peer = spawn_stdio(fake, procs)
        stalled = peer.start_call("session.list")
        assert peer.call("ping")["result"]["message"] == "pong"
        with pytest.raises(TimeoutError):
            peer.index_of(stalled, timeout=0.3)
        fake.send_raw(b"Content-Length: 2\r\n\r\n{}")
        peer.wait(lambda m: m == {})
        peer.start_call("ping", {"message": "close"})
        peer.wait_eof()
        assert peer.error is None and proc.poll() is None  # output closed, process still running
        assert proc.stdin is not None
        proc.stdin.close()  # ... until its input ends
        assert proc.wait(5) == 0

        proc, peer = spawn_stdio(fake, procs)
        assert peer.call("connect")["result"]["ok"]
        peer.start_call("ping", {"message": "junk"})  # the rule writes a bad header, then answers
        peer.wait_eof()
        assert isinstance(peer.error, FramingError)

        proc, peer = spawn_stdio(fake, procs)  # garbage from the SDK side is skipped
        assert proc.stdin is not None
        proc.stdin.write(encode_frame(b"not json"))
        assert peer.call("ping")["result"]["message"] == "pong"
        assert fake.instance.invalid_frames == ["not json"]


def test_runtime_shutdown_exits_zero(fake, procs):
    proc, peer = spawn_stdio(fake, procs)
    response = peer.call("runtime.shutdown")
    assert response == {"jsonrpc": "2.0", "id": 1, "result": None}
    assert proc.wait(5) == 0
    fake.wait_for_exit()


def test_engine_exits_when_the_controller_goes_away(fake, procs):
    proc, peer = spawn_stdio(fake, procs)
    assert peer.call("connect")["result"]["ok"]
    fake.wait_for_instance()._sock.shutdown(socket.SHUT_RDWR)
    assert proc.wait(5) == 0


# --------------------------------------------------------------------------- serve_tcp and cleanup


def test_serve_tcp_serves_several_connections():
    with FakeCLI.serve_tcp(token="tok") as fake:
        assert fake.url == f"127.0.0.1:{fake.port}" and fake.process is not None
        assert (
            fake.instance is not None
            and fake.instance.mode == "tcp"
            and fake.pid == fake.process.pid
        )
        sock_a, a = tcp_peer(fake.port)
        sock_b, b = tcp_peer(fake.port)
        with sock_a, sock_b:
            assert a.call("connect", {"token": "tok"})["result"]["ok"] is True
            assert b.call("ping")["error"]["code"] == -32001
            assert b.call("connect", {"token": "tok"})["result"]["ok"] is True
            create(a, "sa")
            a.wait_event("session.start")
            assert (
                b.wait(lambda m: m.get("method") == "session.lifecycle") >= 0
            )  # broadcast to every client
            event_id = fake.emit("sa", "session.info", {"infoType": "x", "message": "only a"})
            a.wait(lambda m: m.get("params", {}).get("event", {}).get("id") == event_id)
            fake.notify("host.event", {"n": 1})
            a.wait(lambda m: m.get("method") == "host.event")
            b.wait(lambda m: m.get("method") == "host.event")
            assert b.events() == []  # session events go to the session's own connection
            assert fake.instance.connections_opened == 2
            assert [m["method"] for m in fake.received].count("connect") == 2
        process = fake.process
    assert process.poll() is not None


def test_close_leaves_no_process(procs):
    fake = FakeCLI()
    server = FakeCLI.serve_tcp()
    try:
        stdio_proc, peer = spawn_stdio(fake, procs)
        tcp_proc, _port = spawn_tcp(fake, procs, dict(os.environ))
        assert peer.call("connect")["result"]["ok"]
        fake.wait_for_instance(index=1)
        pids = [stdio_proc.pid, tcp_proc.pid, server.pid]
        directory = fake.dir
    finally:
        fake.close()
        server.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # killed *and* reaped: not even a zombie
            os.kill(pid, 0)
    assert not os.path.exists(directory) and not os.path.exists(fake.cli_path)
    fake.close()  # idempotent
    with pytest.raises(FakeCLIError):
        fake.emit("s", "x")
