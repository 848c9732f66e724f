"""Row 2: bad input from the peer (the CLI). For each, the documented outcome, checked end to end
through a fake CLI over real pipes: the frame is skipped and logged and the connection goes on
(proved by a ping round trip afterwards), or the connection fails at once with a typed error
that every waiter receives. Then property-based tests of the frame reader and the event parser.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_sync import (
    ConnectionState,
    JsonRpcError,
    ProcessExitedError,
    ProtocolError,
    SessionEventType,
)
from copilot_sync._events import RawEventData, event_type_names, parse_event
from copilot_sync._wire.framing import (
    FrameReader,
    FrameTooLargeError,
    FramingError,
    TruncatedFrameError,
    encode_frame,
)
from copilot_sync.testing import Rule, Scenario
from copilot_sync.testing.actions import stall

from .conftest import fake_client, run_in_thread

pytestmark = [pytest.mark.reliability_row(2), pytest.mark.timeout(60)]

SKIPPED = "frame skipped, WARNING logged; the connection goes on (ping round trip after it)"


def _frame(obj) -> bytes:
    return encode_frame(json.dumps(obj).encode())


def _logged(caplog, level: int, text: str) -> bool:
    return any(r.levelno >= level and text in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------- skipped and logged

SKIP_CASES = [
    (
        "Header block without Content-Length",
        b"X-Only: header\r\nContent-Type: x\r\n\r\n",
        "without Content-Length",
    ),
    ("Invalid JSON body", b"Content-Length: 9\r\n\r\n{not json", "not valid JSON"),
    ("Non-UTF-8 body", b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc", "not valid JSON"),
    (
        "JSON that is not an object (array)",
        b"Content-Length: 7\r\n\r\n[1,2,3]",
        "not a JSON object",
    ),
    ("Object with neither method nor id", b"Content-Length: 2\r\n\r\n{}", "neither method nor id"),
    (
        "Method that is not a string",
        _frame({"jsonrpc": "2.0", "method": 42, "params": {}}),
        "method is not a string",
    ),
    (
        "Response to an unknown request id",
        _frame({"jsonrpc": "2.0", "id": 98765, "result": {}}),
        "unknown request id",
    ),
    (
        "Response with an unhashable id",
        _frame({"jsonrpc": "2.0", "id": [1], "result": {}}),
        "unknown request id",
    ),
    (
        "session.event without sessionId/event",
        _frame({"jsonrpc": "2.0", "method": "session.event", "params": {"x": 1}}),
        "without sessionId/event",
    ),
    (
        "shell.output without processId",
        _frame({"jsonrpc": "2.0", "method": "shell.output", "params": {"data": "x"}}),
        "without a processId",
    ),
    (
        "shell.exit whose params are not an object",
        _frame({"jsonrpc": "2.0", "method": "shell.exit", "params": [3]}),
        "without a processId",
    ),
]


@pytest.mark.parametrize("name, data, logged", SKIP_CASES, ids=[c[0] for c in SKIP_CASES])
def test_skipped_and_logged(name, data, logged, caplog, record):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    with fake_client() as (fake, client):
        session = client.create_session()
        began = time.monotonic()
        fake.send_raw(data)
        assert client.ping("after").message == "pong: after"
        assert (
            session.send_and_wait("still talking?", timeout=10).data.content
            == "echo: still talking?"
        )
        elapsed = time.monotonic() - began
        assert client.state is ConnectionState.CONNECTED
        assert _logged(caplog, logging.WARNING, logged), caplog.text
    record(
        name,
        figure=f"{len(data)} bytes injected; next ping + turn in {elapsed * 1000:.0f} ms",
        outcome=f"{SKIPPED}: '{logged}'",
    )


def test_event_for_an_unknown_session(caplog, record):
    """An event for a session this client does not have is dropped and logged at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    with fake_client() as (fake, client):
        mine = client.create_session()
        seen = []
        mine.on("session.info", seen.append)
        fake.emit("not-a-session-of-mine", "session.info", {"infoType": "x", "message": "stray"})
        fake.emit(mine.session_id, "session.info", {"infoType": "x", "message": "mine"})
        assert client.ping().protocol_version == 3
        deadline = time.monotonic() + 2
        while len(seen) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e.data.message for e in seen] == ["mine"]
        assert _logged(caplog, logging.DEBUG, "unknown session")
    record(
        "Event for an unknown session",
        figure="1 stray event, 1 own event",
        outcome="stray event dropped, logged at DEBUG (routine after a session is closed); own session unaffected",
    )


def test_request_for_an_unknown_session_and_unknown_method(caplog, record):
    """A server-to-client request always gets an answer: an error for an unknown session or method."""
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    with fake_client() as (fake, client):
        began = time.monotonic()
        unknown_session = fake.request(
            "hooks.invoke", {"sessionId": "nope", "hookType": "preToolUse", "input": {}}
        )
        unknown_method = fake.request("no.such.method", {"sessionId": "nope"})
        no_params = fake.request("userInput.request", None)
        elapsed = time.monotonic() - began
        assert (
            unknown_session["error"]["code"] == -32603
            and "unknown session nope" in unknown_session["error"]["message"]
        )
        assert unknown_method["error"]["code"] == -32601
        assert no_params["error"]["code"] == -32603
        assert _logged(caplog, logging.WARNING, "unknown session")
        assert client.ping().protocol_version == 3
    record(
        "Request for an unknown session",
        figure=f"answered in {elapsed * 1000 / 3:.1f} ms on average",
        outcome="JSON-RPC error -32603 'unknown session <id>', WARNING logged; the CLI is never left waiting",
    )
    record(
        "Request with an unknown method",
        figure="1 request",
        outcome="JSON-RPC error -32601 'Method not found' (a WARNING, once per method name)",
    )


def test_response_without_result_or_error(record):
    """A response to a pending request with neither result nor error fails that request only."""
    # connect is request 1 on a new connection, the first ping request 2
    bad = _frame({"jsonrpc": "2.0", "id": 2})
    with fake_client(
        Scenario(
            rules=[
                Rule(
                    method="ping",
                    times=1,
                    actions=[
                        {"op": "raw", "b64": __import__("base64").b64encode(bad).decode()},
                        stall(),
                    ],
                )
            ]
        )
    ) as (_fake, client):
        with pytest.raises(JsonRpcError, match="no result and no error") as info:
            client.ping("first", timeout=5)
        assert client.ping("second").message == "pong: second"
    record(
        "Response with neither result nor error",
        figure="1 request",
        outcome=f"that request raises JsonRpcError({info.value.code}); the connection goes on",
    )


def test_duplicate_events(record):
    """Duplicates (same event id twice) are delivered as sent; they cannot end the next turn."""
    with fake_client() as (fake, client):
        session = client.create_session()
        seen: list = []
        session.on(seen.append)
        reply = session.send_and_wait("one", timeout=10)
        idle = [e for e in seen if e.type == "session.idle"][-1]
        # replay the last idle and the last assistant.message, ids and all
        fake.emit(
            session.session_id, "session.idle", idle.raw.get("data"), id=idle.id, ephemeral=True
        )
        fake.emit(session.session_id, "assistant.message", reply.raw["data"], id=reply.id)
        assert client.ping().protocol_version == 3
        second = session.send_and_wait("two", timeout=10)
        assert second.data.content == "echo: two"
        ids = [e.id for e in seen]
        assert ids.count(idle.id) == 2 and ids.count(reply.id) == 2
    record(
        "Duplicate events (an idle and a message replayed with their ids)",
        figure=f"{len(seen)} events delivered, 2 of them duplicates",
        outcome="delivered as received, in order (no de-duplication); a replayed idle does not end the next turn, "
        "which returns its own reply",
    )


def test_unknown_event_types_and_fields(record):
    """Forward compatibility: new event types and new fields are delivered, never fail."""
    with fake_client() as (fake, client):
        session = client.create_session()
        seen: list = []
        typed: list = []
        session.on(seen.append)
        session.on("future.event_kind", typed.append)
        fake.emit(session.session_id, "future.event_kind", {"anything": [1, {"b": None}]})
        fake.emit(
            session.session_id,
            "assistant.message",
            {
                "messageId": "m1",
                "content": "hi",
                "brandNewField": {"x": 1},
                "toolRequests": "not-a-list",
            },
        )
        fake.emit(session.session_id, "session.info", None)
        assert client.ping().protocol_version == 3
        deadline = time.monotonic() + 2
        while (
            len([e for e in seen if e.raw_type != "session.start"]) < 3
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        future, message, empty = [e for e in seen if e.raw_type != "session.start"]
        assert future.type is SessionEventType.UNKNOWN and future.raw_type == "future.event_kind"
        assert isinstance(future.data, RawEventData) and future.data.anything == [1, {"b": None}]
        assert typed == [future]
        assert message.data.content == "hi" and message.raw["data"]["brandNewField"] == {"x": 1}
        assert message.data.tool_requests == "not-a-list"  # kept as received, never raises
        assert empty.data is not None
        repr(future), repr(message), repr(empty)
    record(
        "Unknown event type, unknown fields, wrong-typed and missing data",
        figure="3 events",
        outcome="delivered: type UNKNOWN with raw_type kept, unknown fields kept in `raw`, "
        "wrong-typed values kept as received; nothing raises",
    )


def test_twenty_megabyte_frame(record):
    """A 20 MB message arrives whole (the limit is 256 MB per frame)."""
    content = "0123456789abcdef" * (20 * 1024 * 1024 // 16)
    with fake_client() as (fake, client):
        session = client.create_session()
        got: list = []
        done = threading.Event()
        session.on("assistant.message", lambda e: (got.append(e), done.set()))
        began = time.monotonic()
        fake.emit(session.session_id, "assistant.message", {"messageId": "big", "content": content})
        assert done.wait(30)
        elapsed = time.monotonic() - began
        assert got[0].data.content == content
        assert client.ping().protocol_version == 3
    record(
        "A 20 MB frame",
        figure=f"{len(content) / 2**20:.0f} MiB event delivered intact in {elapsed:.2f} s",
        outcome="delivered; frames above `max_frame_bytes` (256 MiB) fail the connection with ProtocolError (row 9)",
    )


def test_oversized_frame_fails_the_stream_at_once(record):
    stream = io.BufferedReader(io.BytesIO(encode_frame(b"x" * 5000) + encode_frame(b'{"ok":1}')))
    reader = FrameReader(stream, max_frame_bytes=4096)
    with pytest.raises(
        FrameTooLargeError, match="5,000-byte frame is above the limit of 4,096 bytes"
    ):
        reader.read_frame()
    record(
        "A frame above max_frame_bytes",
        figure="5,000-byte frame, limit 4,096 bytes",
        outcome="FrameTooLargeError at once, nothing of the body read; the connection closes with "
        "ProtocolError naming size and limit (row 9)",
    )


# ----------------------------------------------------------------------------- connection fails, typed

FATAL_CASES = [
    ("Negative Content-Length", b"Content-Length: -4\r\n\r\n{}", ProtocolError),
    ("Non-numeric Content-Length", b"Content-Length: many\r\n\r\n{}", ProtocolError),
    ("Header line without a colon", b"what is this\r\n\r\n", ProtocolError),
    ("Header line over 8 KiB", b"X-Long: " + b"a" * 9000 + b"\r\n\r\n", ProtocolError),
    ("More than 64 header lines", b"X: y\r\n" * 65 + b"\r\n", ProtocolError),
    (
        "Wrong Content-Length, too short (5 of a 45-byte body)",
        b"Content-Length: 5\r\n\r\n"
        + json.dumps({"jsonrpc": "2.0", "method": "x", "params": {}}).encode(),
        ProtocolError,
    ),
    (
        "Wrong Content-Length, too long (swallows the next frame)",
        b'Content-Length: 60\r\n\r\n{"jsonrpc":"2.0","method":"x"}'
        + _frame({"jsonrpc": "2.0", "method": "y"}),
        ProtocolError,
    ),
]


@pytest.mark.parametrize("name, data, error", FATAL_CASES, ids=[c[0] for c in FATAL_CASES])
def test_unreadable_stream_fails_every_waiter_with_a_typed_error(name, data, error, record):
    scenario = Scenario(
        think_time=30, rules=[Rule(method="session.getMessages", actions=[stall()])]
    )
    with fake_client(scenario) as (fake, client):
        session = client.create_session()
        waiters = [
            run_in_thread(session.send_and_wait, "x", timeout=30),
            run_in_thread(session.get_messages, timeout=30),
        ]
        fake.wait_for_request("session.send")
        fake.wait_for_request("session.getMessages")
        sent_at = time.monotonic()
        fake.send_raw(data)
        try:  # the peer goes on talking: the next frame shows where the boundaries went
            fake.emit(session.session_id, "session.info", {"infoType": "x", "message": "next"})
        except Exception:
            pass
        for thread, _ in waiters:
            thread.join(5)
        outcomes = [out.get("error") for _, out in waiters]
        assert all(isinstance(o, error) for o in outcomes), outcomes
        latency = max(out["at"] for _, out in waiters) - sent_at
        assert latency < 1.0
        assert client.state is ConnectionState.ERROR
    record(
        name,
        figure=f"2 waiters failed {latency * 1000:.0f} ms after the bytes were sent",
        outcome=f"connection closed at once; every waiter: {error.__name__} ('cannot be read as a frame'); state=error",
    )


TRUNCATED = {
    "body": b'Content-Length: 100\r\n\r\n{"jsonrpc":"2.0","method"',
    "header": b"Content-Len",
}


@pytest.mark.parametrize("where", ["body", "header"])
@pytest.mark.parametrize("how", ["exits", "closes its output"])
def test_truncated_frame(where, how, record):
    """Half a frame, then the stream ends: the connection ended (ProcessExitedError), not a hang."""
    scenario = Scenario(think_time=30)
    with fake_client(scenario) as (fake, client):
        session = client.create_session()
        started = threading.Event()
        session.on("assistant.turn_start", lambda e: started.set())
        thread, out = run_in_thread(session.send_and_wait, "x", timeout=30)
        assert started.wait(5)  # the fake is now quiet (thinking for 30 s)
        fake.send_raw(TRUNCATED[where])
        time.sleep(0.05)
        assert thread.is_alive()  # the rest may still come: it is waited for
        ended_at = time.monotonic()
        if how == "exits":
            fake.exit(7)
        else:
            fake.close_stdout()
        thread.join(5)
        error = out.get("error")
        assert isinstance(error, ProcessExitedError), out
        latency = out["at"] - ended_at
        assert client.state is ConnectionState.ERROR
        if how == "exits":
            assert error.exit_code == 7
    record(
        f"Truncated {where}, then the peer {how}",
        figure=f"waiter failed {latency * 1000:.0f} ms after the stream ended",
        outcome="the end of the connection (WARNING 'ended inside a frame'): ProcessExitedError"
        + (
            " with the exit code (7)"
            if how == "exits"
            else "; the SDK first waits up to 1 s for the still-running CLI's exit code"
        ),
    )


# ----------------------------------------------------------------------------- property-based

_bodies = st.binary(min_size=0, max_size=2048)
_extra_headers = st.lists(
    st.sampled_from(
        [b"Content-Type: application/vscode-jsonrpc; charset=utf-8", b"X-Extra: 1", b"x-y:z"]
    ),
    max_size=2,
)


@st.composite
def _frames(draw):
    body = draw(_bodies)
    name = draw(st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH"]))
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    headers = draw(_extra_headers)
    lead = draw(st.sampled_from([b"", b"\r\n", b"\n\r\n"]))  # stray blank lines between frames
    pos = draw(st.integers(0, len(headers)))
    headers = [*headers[:pos], name + b": " + str(len(body)).encode(), *headers[pos:]]
    return body, lead + eol.join(headers) + eol + eol + body


_counts = {"roundtrip": 0, "garbage": 0, "pipe": 0, "events": 0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_frames(), max_size=8))
def test_frame_reader_round_trip(frames):
    _counts["roundtrip"] += 1
    reader = FrameReader(io.BytesIO(b"".join(raw for _, raw in frames)))
    assert [reader.read_frame() for _ in frames] == [body for body, _ in frames]
    assert reader.read_frame() is None


@settings(max_examples=1500, deadline=None)
@given(
    st.binary(max_size=300)
    | st.lists(
        st.sampled_from(
            [
                b"Content-Length: ",
                b"3",
                b"-1",
                b"\r\n",
                b"\n",
                b":",
                b"{}",
                b"x",
                b"\xff",
                b"Content-Length: 2\r\n\r\n{}",
            ]
        ),
        max_size=30,
    ).map(b"".join)
)
def test_frame_reader_on_arbitrary_bytes_only_returns_or_raises_framing_errors(data):
    _counts["garbage"] += 1
    reader = FrameReader(io.BytesIO(data), max_frame_bytes=64)
    for _ in range(len(data) + 2):  # every call consumes at least one byte, or ends
        try:
            body = reader.read_frame()
        except FramingError:  # TruncatedFrameError included
            return
        if body is None:
            return
        assert isinstance(body, bytes) and len(body) <= 64
    pytest.fail("the reader neither ended nor failed")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_frames(), min_size=1, max_size=6),
    st.lists(st.integers(1, 64), min_size=1, max_size=20),
)
def test_frame_reader_over_a_pipe_with_arbitrary_write_boundaries(frames, cuts):
    """Real pipe, bytes written in arbitrary pieces: the reader reassembles every frame."""
    _counts["pipe"] += 1
    data = b"".join(raw for _, raw in frames)
    rfd, wfd = os.pipe()

    def write() -> None:
        with os.fdopen(wfd, "wb", buffering=0) as out:
            pos, i = 0, 0
            while pos < len(data):
                step = cuts[i % len(cuts)]
                out.write(data[pos : pos + step])
                pos += step
                i += 1

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(rfd, "rb") as stream:
        reader = FrameReader(stream)
        got = [reader.read_frame() for _ in frames]
        assert reader.read_frame() is None
    writer.join()
    assert got == [body for body, _ in frames]


def test_truncated_inputs_raise_truncated_frame_error():
    whole = encode_frame(b'{"a":1}')
    for cut in range(1, len(whole)):
        reader = FrameReader(io.BytesIO(whole[:cut]))
        with pytest.raises(TruncatedFrameError):
            reader.read_frame()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_types = st.sampled_from(sorted(event_type_names())) | st.text(max_size=20)


@st.composite
def _raw_events(draw):
    raw = draw(
        st.dictionaries(
            st.sampled_from(["id", "timestamp", "parentId", "ephemeral", "agentId", "extra"]), _json
        )
    )
    if draw(st.booleans()):
        raw["type"] = draw(_types)
    if draw(st.booleans()):
        event_type = raw.get("type") if isinstance(raw.get("type"), str) else ""
        raw["data"] = draw(_json | st.dictionaries(st.text(max_size=15), _json, max_size=6))
        del event_type
    if draw(st.booleans()):
        raw["timestamp"] = draw(
            st.sampled_from(["2025-01-02T03:04:05.678Z", "2025-13-99T00:00:00Z", "yesterday", ""])
        )
    return raw


@settings(max_examples=700, deadline=None)
@given(_raw_events())
def test_event_parser_never_raises(raw):
    _counts["events"] += 1
    event = parse_event(raw)
    assert event.raw is raw and isinstance(event.raw_type, str)
    event.type, event.timestamp, event.data, event.ephemeral, event.agent_id
    repr(event)
    assert event.to_dict() == raw
    if isinstance(event.data, RawEventData):
        event.data.to_dict()


@settings(max_examples=300, deadline=None)
@given(_json)
def test_event_parser_rejects_non_objects_with_type_error(value):
    if isinstance(value, dict):
        parse_event(value)
    else:
        with pytest.raises(TypeError):
            parse_event(value)


def test_property_based_totals(record):
    """Summary line for the property-based tests above (they run first, in file order)."""
    record(
        "Property: frame reader round trip (random headers, case, LF/CRLF, stray blank lines)",
        figure=f"{_counts['roundtrip']} generated streams of up to 8 frames",
        outcome="every body read back exactly, then a clean end (None)",
    )
    record(
        "Property: frame reader on arbitrary bytes",
        figure=f"{_counts['garbage']} generated inputs (limit 64 bytes)",
        outcome="returns frames, ends cleanly, or raises FramingError/TruncatedFrameError; never hangs, never another error",
    )
    record(
        "Property: frame reader over a real pipe, arbitrary write boundaries",
        figure=f"{_counts['pipe']} generated streams",
        outcome="every frame reassembled",
    )
    record(
        "Property: event parser on arbitrary event objects (known and random types, random data)",
        figure=f"{_counts['events']} generated events",
        outcome="never raises (type, timestamp, data, repr, to_dict); non-objects raise TypeError",
    )
