"""Row 9: the wire under stress. A peer that stops reading (a stopped CLI, a TCP server that
accepts and never reads), frames too large or nested too deep, values JSON cannot carry.
Every write is bounded by its caller's deadline, stop()/force_stop() stay bounded, every CLI
request gets an answer, and an unreadable stream fails every waiter at once with a typed error.

Faults are real where they can be: SIGSTOP on the real CLI and on the fake CLI (a process that
stops reading its stdin), raw TCP servers in this file that speak frames, bytes injected by the
fake CLI. Times are asserted with generous bounds (a deadline plus 1.5 s), never tightly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from copilot_sync import (
    CLINotReadingError,
    ConnectionLostError,
    ConnectionState,
    CopilotClient,
    CopilotTimeoutError,
    FrameTooLargeError,
    ProtocolError,
    define_tool,
)
from copilot_sync._errors import ProcessExitedError
from copilot_sync._wire.connection import JsonRpcConnection
from copilot_sync._wire.framing import FrameReader, WriterClosedError, encode_frame
from copilot_sync._wire.process import CLIProcess
from copilot_sync._wire.transport import SocketTransport
from copilot_sync._wire.writer import FrameWriter, SocketSink
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import stall

from .conftest import fake_client, pid_alive, run_in_thread, stop_client, wait_until

pytestmark = [pytest.mark.reliability_row(9), pytest.mark.timeout(90)]

SLACK = 1.5  # seconds a bounded call may take beyond its deadline on a loaded machine
ONE_MIB = "x" * (1 << 20)
HANDSHAKE = {"ok": True, "protocolVersion": 3, "version": "1.0.81"}


def _logged(caplog: pytest.LogCaptureFixture, level: int, text: str) -> bool:
    return any(r.levelno >= level and text in r.getMessage() for r in caplog.records)


def _timed(
    fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, BaseException | None, float]:
    """``fn(*args, **kwargs)``: its result, the exception it raised, and how long it took."""
    began = time.monotonic()
    try:
        return fn(*args, **kwargs), None, time.monotonic() - began
    except Exception as exc:
        return None, exc, time.monotonic() - began


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """SIGSTOP ``pid`` (it stops reading its input); SIGCONT it whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


# ============================================================================ a raw TCP peer


class RawPeer:
    """A TCP server in this process that speaks frames: it answers ``connect`` (the handshake),
    reads ``read_limit`` frames in all, and then never reads again (its socket buffer fills).
    ``answer(message)`` may return a result for other requests (``None``: no answer)."""

    def __init__(
        self, *, read_limit: int | None = None, answer: Callable[[dict], Any] | None = None
    ) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024
        )  # inherited by the accepted socket
        self.port: int = self.listener.getsockname()[1]
        self.read_limit = read_limit
        self.answer = answer
        self.received: list[dict] = []
        self.conn: socket.socket | None = None
        self.accepted = threading.Event()
        self.stopped_reading = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="test-raw-peer", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.conn = conn
        self.accepted.set()
        reader = FrameReader(conn.makefile("rb"))
        try:
            while self.read_limit is None or len(self.received) < self.read_limit:
                body = reader.read_frame()
                if body is None:
                    return
                message = json.loads(body)
                self.received.append(message)
                if message.get("method") == "connect":
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": HANDSHAKE})
                elif "id" in message and "method" in message and self.answer is not None:
                    result = self.answer(message)
                    if result is not None:
                        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            self.stopped_reading.set()
            self._done.wait()  # keep the socket open, unread
        except (OSError, ValueError):
            return

    def send(self, message: dict | bytes) -> None:
        data = message if isinstance(message, bytes) else encode_frame(json.dumps(message).encode())
        with self._lock:
            assert self.conn is not None
            self.conn.sendall(data)

    def close(self) -> None:
        self._done.set()
        for sock in (self.conn, self.listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(5)


@contextlib.contextmanager
def raw_peer_client(**peer_options: Any) -> Iterator[tuple[RawPeer, CopilotClient]]:
    peer = RawPeer(**peer_options)
    client = CopilotClient(cli_url=peer.url)
    try:
        client.start()
        yield peer, client
    finally:
        try:
            client.force_stop()
        finally:
            peer.close()


def _bare_connection(
    reader: FrameReader,
    writer: Any,
    describe_end: Callable[[BaseException | None], ConnectionLostError],
    **options: Any,
) -> JsonRpcConnection:
    connection = JsonRpcConnection(
        reader,
        writer,
        on_notification=lambda m, p: None,
        on_request=lambda i, m, p: None,
        on_close=lambda e: None,
        describe_end=describe_end,
        name="copilot-reader-test",
        **options,
    )
    connection.start()
    return connection


# ============================================================================ A. a peer that stops reading


def test_stopped_fake_cli_cut_request_fails_every_waiter_then_stop(record):
    """A stopped CLI (SIGSTOP) and a 1 MiB request with timeout=2: it raises in time; the
    frame was cut, so the connection closes and every other waiter gets CLINotReadingError;
    stop(timeout=5) is bounded."""
    scenario = Scenario(rules=[Rule(method="session.getMessages", actions=[stall()])])
    with FakeCLI(scenario) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session()
            other, other_out = run_in_thread(session.get_messages, timeout=60)
            fake.wait_for_request("session.getMessages")
            with stopped(client.pid):
                _, error, took = _timed(client.ping, ONE_MIB, timeout=2)
                other.join(5)
                assert isinstance(error, CopilotTimeoutError), error
                assert took < 2 + SLACK
                assert "stopped reading" in str(error)
                assert isinstance(other_out.get("error"), CLINotReadingError), other_out
                assert "stopped reading" in str(other_out["error"])
                assert client.state is ConnectionState.ERROR
                _, stop_error, stop_took = _timed(client.stop, timeout=5)
                assert stop_error is None and stop_took < 5 + SLACK
        finally:
            stop_client(client)
    record(
        "Stopped CLI (fake, SIGSTOP), a 1 MiB request with timeout=2, another request waiting",
        figure=f"raised after {took:.2f} s; the other waiter failed at once; stop(timeout=5) took {stop_took:.2f} s",
        outcome="CopilotTimeoutError ('stopped reading'); the frame was cut, so the connection closed: every "
        "waiter gets CLINotReadingError('the CLI stopped reading its input...'); state=error",
    )


def test_stopped_fake_cli_send_and_wait_is_bounded(record):
    """A stopped CLI and a 1 MiB prompt: send_and_wait(timeout=2) raises in time, and
    stop(timeout=5) is bounded although the message is still being written."""
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session()
            with stopped(client.pid):
                _, error, took = _timed(session.send_and_wait, ONE_MIB, timeout=2)
                assert isinstance(error, CopilotTimeoutError), error
                assert took < 2 + SLACK
                _, stop_error, stop_took = _timed(client.stop, timeout=5)
                assert stop_error is None and stop_took < 5 + SLACK
        finally:
            stop_client(client)
    record(
        "Stopped CLI (fake, SIGSTOP), 1 MiB prompt, send_and_wait(timeout=2), then stop(timeout=5)",
        figure=f"raised after {took:.2f} s; stop() took {stop_took:.2f} s",
        outcome="CopilotTimeoutError; stop() within its budget",
    )


@pytest.mark.parametrize("how", ["stop", "force_stop"])
def test_stopped_real_cli_send_and_wait_and_stop_are_bounded(real_cli, cli_env, model, how, record):
    """The real CLI stopped (SIGSTOP), a 1 MiB prompt: send_and_wait(timeout=2), then stop/force_stop."""
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    pid = client.pid
    assert pid is not None
    try:
        session = client.create_session(model=model.model, provider=model.provider())
        with stopped(pid):
            _, error, took = _timed(session.send_and_wait, ONE_MIB, timeout=2)
            assert isinstance(error, CopilotTimeoutError), error
            assert took < 2 + SLACK
            if how == "stop":
                _, stop_error, stop_took = _timed(client.stop, timeout=5)
                assert stop_took < 5 + SLACK
            else:
                _, stop_error, stop_took = _timed(client.force_stop)
                assert stop_took < SLACK
            assert stop_error is None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        stop_client(client)
    assert wait_until(lambda: not pid_alive(pid), 5)
    record(
        f"Real CLI stopped (SIGSTOP), 1 MiB prompt, send_and_wait(timeout=2), then {how}()",
        figure=f"send_and_wait raised after {took:.2f} s; {how}() took {stop_took:.2f} s",
        outcome="CopilotTimeoutError; the connection closed (the frame was cut); "
        f"{how}() returns within its budget and the CLI is gone",
    )


def test_tcp_peer_that_never_reads_32_mib(record):
    """A TCP server that accepts and never reads: ping(32 MiB, timeout=2) raises in time."""
    with raw_peer_client(read_limit=1) as (peer, client):
        assert peer.stopped_reading.wait(5)
        _, error, took = _timed(client.ping, "y" * (32 << 20), timeout=2)
        assert isinstance(error, CopilotTimeoutError), error
        assert took < 2 + SLACK
        assert client.state is ConnectionState.ERROR
        _, stop_error, stop_took = _timed(client.stop, timeout=5)
        assert stop_error is None and stop_took < 5 + SLACK
    record(
        "TCP server that accepts and never reads, ping(32 MiB, timeout=2)",
        figure=f"raised after {took:.2f} s; stop(timeout=5) took {stop_took:.2f} s",
        outcome="CopilotTimeoutError; the frame was cut, so the connection closed (CLINotReadingError for every "
        "waiter); stop() bounded",
    )


def test_a_write_that_cannot_start_times_out_and_the_connection_goes_on(record):
    """The fake CLI stopped while a 1 MiB send is being written: a ping(timeout=1) cannot even
    start (the writer is busy), so it raises CopilotTimeoutError with nothing sent and nothing
    pending; once the CLI reads again, the send completes and the connection works."""
    with fake_client() as (_fake, client):
        session = client.create_session()
        with stopped(client.pid):
            big, big_out = run_in_thread(session.send_and_wait, ONE_MIB, timeout=60)
            connection = client._connection
            assert connection is not None
            assert wait_until(lambda: connection.pending_count == 1, 5)  # the send is being written
            time.sleep(0.2)
            _, error, took = _timed(client.ping, "small", timeout=1)
            assert isinstance(error, CopilotTimeoutError), error
            assert "nothing was sent" in str(error)
            assert took < 1 + SLACK
            assert connection.pending_count == 1 and not connection.is_closed
        big.join(15)
        assert big_out["result"].data.content == "echo: " + ONE_MIB
        assert client.ping("after").message == "pong: after"
        assert client.state is ConnectionState.CONNECTED
    record(
        "A request that cannot start writing (the writer is busy with 1 MiB to a stopped CLI)",
        figure=f"ping(timeout=1) raised after {took:.2f} s",
        outcome="CopilotTimeoutError ('nothing was sent'); no pending entry left; after SIGCONT the 1 MiB "
        "turn completes and the connection goes on",
    )


def test_stop_and_force_stop_never_wait_for_a_stuck_writer(record):
    """A thread blocked writing 32 MiB (timeout=None) to a TCP server that never reads:
    a second request times out without sending; stop() returns at once and the writer wakes."""
    figures = []
    for how in ("stop", "force_stop"):
        with raw_peer_client(read_limit=1) as (peer, client):
            assert peer.stopped_reading.wait(5)
            stuck, stuck_out = run_in_thread(client.ping, "z" * (32 << 20), timeout=None)
            connection = client._connection
            assert connection is not None
            assert wait_until(lambda connection=connection: connection.pending_count == 1, 5)
            time.sleep(0.3)
            assert stuck.is_alive()
            _, error, _took = _timed(client.ping, "small", timeout=0.5)
            assert isinstance(error, CopilotTimeoutError) and "nothing was sent" in str(error), (
                error
            )
            began = time.monotonic()
            if how == "stop":
                client.stop(timeout=5)
            else:
                client.force_stop()
            stop_took = time.monotonic() - began
            stuck.join(5)
            assert not stuck.is_alive()
            assert isinstance(stuck_out.get("error"), ConnectionLostError), stuck_out
            woke = stuck_out["at"] - began
            assert stop_took < SLACK and woke < SLACK
            figures.append(
                f"{how}() {stop_took * 1000:.0f} ms, writer woke after {woke * 1000:.0f} ms"
            )
    record(
        "stop() / force_stop() while a thread is blocked writing 32 MiB (timeout=None) to a TCP server "
        "that never reads",
        figure="; ".join(figures),
        outcome="neither waits for the writer: the writer is closed, wakes within one wait slice and raises "
        "ConnectionLostError; a second request meanwhile raises CopilotTimeoutError ('nothing was sent')",
    )


def test_send_async_never_blocks_on_a_stopped_cli(record):
    """send_async goes out with request_async (reader and event threads call it): with the CLI
    stopped, a 1 MiB send_async returns at once; the rest is written in the background."""
    with fake_client() as (_fake, client):
        session = client.create_session()
        with stopped(client.pid):
            future, error, took = _timed(session.send_async, ONE_MIB, timeout=60)
            assert error is None and took < 0.5
            time.sleep(0.3)
            assert not future.done()
            assert any(t.name.startswith("copilot-writer") for t in threading.enumerate())
        reply = future.result(timeout=15)
        assert reply.data.content == "echo: " + ONE_MIB
    record(
        "send_async(1 MiB) to a stopped CLI (request_async)",
        figure=f"returned in {took * 1000:.1f} ms; the turn completed after SIGCONT",
        outcome="never blocks: what does not fit is written by a background thread (copilot-writer), bounded "
        "by 30 s; its failure reaches the callback (next case)",
    )


@contextlib.contextmanager
def unread_socket_connection(background_write_timeout: float) -> Iterator[JsonRpcConnection]:
    """A connection over one end of a socket pair whose other end never reads."""
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    try:
        yield _bare_connection(
            FrameReader(ours.makefile("rb")),
            FrameWriter(SocketSink(ours)),
            lambda exc: ProcessExitedError(f"ended: {exc}"),
            background_write_timeout=background_write_timeout,
        )
    finally:
        ours.close()
        theirs.close()  # the reader thread sees the end of the stream


class Outcomes:
    """Records ``request_async`` callbacks."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, Any, BaseException | None]] = []
        self.called = threading.Event()

    def __call__(self, result: Any, error: BaseException | None) -> None:
        self.calls.append((time.monotonic(), result, error))
        self.called.set()


def test_request_async_background_write_is_bounded_nothing_sent(record):
    """request_async while another thread holds the writer (8 MiB to a peer that reads
    nothing): it returns at once; within the background bound (shortened to 0.5 s) the
    callback gets CopilotTimeoutError, nothing was sent, and the connection goes on."""
    with unread_socket_connection(0.5) as connection:
        stuck, stuck_out = run_in_thread(
            connection.request, "big", {"b": "q" * (8 << 20)}, timeout=None
        )
        assert wait_until(lambda: connection.pending_count == 1, 5)
        time.sleep(0.2)
        outcomes = Outcomes()
        began = time.monotonic()
        connection.request_async("small", {}, outcomes)
        returned = time.monotonic() - began
        assert outcomes.called.wait(5)
        at, _, error = outcomes.calls[0]
        assert isinstance(error, CopilotTimeoutError) and "nothing was sent" in str(error), error
        assert returned < 0.1 and at - began < 0.5 + SLACK
        assert not connection.is_closed and connection.pending_count == 1
        connection.close(ProtocolError("test over"))  # releases the stuck writer within one slice
        stuck.join(5)
        assert isinstance(stuck_out.get("error"), ConnectionLostError), stuck_out
    record(
        "request_async while the writer is busy and the peer reads nothing (bound shortened to 0.5 s)",
        figure=f"returned in {returned * 1000:.1f} ms; callback after {at - began:.2f} s",
        outcome="callback(CopilotTimeoutError 'nothing was sent'); the connection goes on",
    )


def test_request_async_background_write_is_bounded_frame_cut(record):
    """request_async of 8 MiB to a peer that reads nothing, with a caller's write_timeout of
    0.5 s (the connection's own bound is 30 s): what fits is written at once, the rest in the
    background; when the bound passes the frame is cut, so the connection closes and the
    callback gets its CLINotReadingError ('stopped reading')."""
    with unread_socket_connection(30.0) as connection:
        outcomes = Outcomes()
        began = time.monotonic()
        connection.request_async("big", {"b": "q" * (8 << 20)}, outcomes, write_timeout=0.5)
        returned = time.monotonic() - began
        assert outcomes.called.wait(5)
        at, _, error = outcomes.calls[0]
        assert isinstance(error, CLINotReadingError) and "stopped reading" in str(error), error
        assert returned < 0.5 and at - began < 0.5 + SLACK
        assert connection.is_closed
    record(
        "request_async of 8 MiB to a peer that reads nothing (write_timeout=0.5 s)",
        figure=f"returned in {returned * 1000:.1f} ms; callback after {at - began:.2f} s",
        outcome="the frame was cut: the connection closes, the callback gets CLINotReadingError ('stopped reading')",
    )


def test_answers_from_workers_are_bounded_and_logged(caplog, record):
    """respond() on a worker thread to a peer that reads nothing returns within the
    background bound (shortened to 0.5 s here) and logs ERROR; it never hangs the worker."""
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    with unread_socket_connection(0.5) as connection:
        _, error, took = _timed(connection.respond, 7, {"blob": "r" * (8 << 20)})
        assert error is None and took < 0.5 + SLACK
        assert _logged(caplog, logging.ERROR, "could not send the answer to request 7")
        assert connection.is_closed and "stopped reading" in str(connection.closed_error)
        _, error, took_after = _timed(connection.respond, 8, {})
        assert error is None and took_after < 0.1
        assert _logged(caplog, logging.DEBUG, "dropped the answer to request 8")
    record(
        "An answer to the CLI (respond, worker thread) when the CLI reads nothing (bound shortened to 0.5 s)",
        figure=f"returned after {took:.2f} s",
        outcome="bounded (30 s by default), ERROR logged; the frame was cut, so the connection closed; later "
        "answers are dropped at once (DEBUG)",
    )


def test_closing_and_killing_never_block_on_a_pipe(record):
    """A child that never reads its stdin, with a thread blocked writing 1 MiB to it, and a
    grandchild in its own session holding stdout open with a thread blocked reading it:
    close_stdin(), transport close and kill() all return at once."""
    script = (
        "import os, subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(30)']);"
        "sys.stderr.write('grandchild %d\\n' % p.pid); sys.stderr.flush(); time.sleep(60)"
    )
    process = CLIProcess([sys.executable, "-c", script], env=dict(os.environ), cwd=None, stdio=True)
    grandchild = None
    try:
        assert wait_until(lambda: "grandchild" in process.stderr_tail(), 10)
        grandchild = int(process.stderr_tail().split("grandchild ")[1].split()[0])
        reader, writer = process.frames()
        with contextlib.ExitStack() as stack:

            def read() -> None:
                with reader.reading():
                    reader.read_frame()

            reading = threading.Thread(target=read, name="test-pipe-reader", daemon=True)
            reading.start()
            stack.callback(reading.join, 1)
            writing, write_out = run_in_thread(writer.write_frame, b"w" * (1 << 20), None)
            time.sleep(0.3)
            assert writing.is_alive() and reading.is_alive()
            _, error, close_took = _timed(process.close_stdin)
            assert error is None and close_took < 0.1
            writing.join(2)
            assert isinstance(write_out.get("error"), WriterClosedError), write_out
            _, error, kill_took = _timed(process.kill, 5.0)
            assert error is None and kill_took < SLACK
            assert process.returncode == -signal.SIGKILL
            assert (
                reading.is_alive()
            )  # the grandchild still holds stdout: left to the reader thread
            assert not reader.closed
    finally:
        process.kill()
        if grandchild is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(grandchild, signal.SIGKILL)
    assert wait_until(
        lambda: reader.closed, 5
    )  # the reader thread closed stdout when the pipe ended
    record(
        "close_stdin() and kill() with a writer blocked on a full stdin and a reader blocked on a stdout "
        "a grandchild keeps open",
        figure=f"close_stdin {close_took * 1000:.1f} ms (the writer woke with WriterClosedError); "
        f"kill {kill_took * 1000:.0f} ms",
        outcome="never blocks: nothing is flushed, a write in progress stops within one slice, and stdout is "
        "closed by the thread that reads it when the pipe ends",
    )


# ============================================================================ B. values JSON cannot carry


def test_tool_result_with_a_lone_surrogate_reaches_the_cli(caplog, record):
    """A tool returns '\\udcff' (what os.listdir gives for a name that is not UTF-8): the
    handlePendingToolCall request still goes out, the lone surrogate as U+FFFD (the CLI
    cannot read it even escaped, next case), a surrogate pair as its character; WARNING logged."""
    caplog.set_level(logging.WARNING, logger="copilot_sync")

    @define_tool(description="lists a directory")
    def list_names(n: int) -> str:
        return "name-\udcff.txt and \ud83d\ude00"

    with fake_client() as (fake, client):
        session = client.create_session(tools=[list_names])
        fake.emit(
            session.session_id,
            "external_tool.requested",
            {
                "requestId": "r1",
                "toolCallId": "c1",
                "toolName": "list_names",
                "arguments": {"n": 1},
            },
        )
        request = fake.wait_for_request("session.tools.handlePendingToolCall", timeout=10)
        assert request["params"]["result"]["textResultForLlm"] == "name-\ufffd.txt and \U0001f600"
        assert _logged(caplog, logging.WARNING, "1 lone surrogate(s)")
        assert (
            session.send_and_wait("still there?", timeout=10).data.content == "echo: still there?"
        )
    record(
        "A tool result with a lone surrogate ('\\udcff') and a surrogate pair",
        figure="1 tool call",
        outcome="the request goes out: the lone surrogate as U+FFFD, the pair as its character; WARNING logged; "
        "the turn goes on",
    )


def test_real_cli_rejects_an_escaped_lone_surrogate(real_cli, cli_env, caplog, record):
    """Why a lone surrogate is replaced rather than escaped: the real CLI answers an escaped one
    ('\\udcff' in the JSON text) with a -32700 parse error without an id, so the request
    would never be answered. The SDK now logs such an answer at ERROR."""
    caplog.set_level(logging.WARNING, logger="copilot_sync")
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        connection = client._connection
        assert connection is not None
        connection._writer.write_frame(
            b'{"jsonrpc":"2.0","id":999999,"method":"ping","params":{"message":"\\udcff"}}', 5
        )
        assert wait_until(
            lambda: _logged(caplog, logging.ERROR, "could not read a message from this SDK"), 10
        )
        assert client.ping("after").protocol_version == 3
    finally:
        stop_client(client)
    message = next(
        r.getMessage() for r in caplog.records if "could not read a message" in r.getMessage()
    )
    assert "-32700" in message and "surrogate" in message
    record(
        "Real CLI: a lone surrogate escaped in the JSON text ('\\udcff')",
        figure="1 request",
        outcome="the CLI answers -32700 'lone leading surrogate in hex escape' with id null (no waiter can be "
        "told): logged at ERROR; hence the SDK sends U+FFFD instead",
    )


def test_answers_the_cli_cannot_parse_become_errors(caplog, record):
    """Hook results with NaN, Infinity, a circular reference or an object JSON does not know:
    the CLI gets a -32603 error naming the problem; a lone surrogate goes out escaped."""
    caplog.set_level(logging.WARNING, logger="copilot_sync")
    circular: list = []
    circular.append(circular)
    values = {"nan": float("nan"), "infinity": math.inf, "circular": circular, "object": object()}
    choice: dict[str, Any] = {}

    def on_pre_tool_use(data: Any, context: Any) -> dict[str, Any]:
        return {"permissionDecision": "allow", "additionalContext": choice["value"]}

    answers = {}
    with fake_client() as (fake, client):
        session = client.create_session(hooks={"on_pre_tool_use": on_pre_tool_use})
        hook = {
            "sessionId": session.session_id,
            "hookType": "preToolUse",
            "input": {"toolName": "bash", "toolArgs": {}},
        }
        for name, value in values.items():
            choice["value"] = value
            answers[name] = fake.request("hooks.invoke", hook, timeout=10)
        choice["value"] = "caf\udce9"
        replaced = fake.request("hooks.invoke", hook, timeout=10)
        assert client.ping().protocol_version == 3
    for name, answer in answers.items():
        assert answer.get("error", {}).get("code") == -32603, (name, answer)
        assert "cannot be sent as JSON" in answer["error"]["message"]
    assert "NaN or Infinity" in answers["nan"]["error"]["message"]
    assert "circular reference" in answers["circular"]["error"]["message"]
    assert "not JSON serializable" in answers["object"]["error"]["message"]
    assert replaced["result"]["output"]["additionalContext"] == "caf\ufffd"
    assert _logged(caplog, logging.ERROR, "cannot be sent as JSON")
    record(
        "A hook answer JSON cannot carry: NaN, Infinity, a circular reference, an object",
        figure=f"{len(values)} answers",
        outcome="each answered with JSON-RPC error -32603 naming the problem "
        "(ERROR logged); the CLI is never left waiting",
    )
    record(
        "A hook answer with a lone surrogate",
        figure="1 answer",
        outcome="answered, the lone surrogate as U+FFFD (WARNING logged)",
    )


def test_requests_json_cannot_carry_raise_type_error_and_leave_nothing_pending(record):
    """A request, request_async or notification whose params JSON cannot carry raises TypeError
    naming the method; nothing is sent and nothing is left pending."""
    circular: dict = {}
    circular["self"] = circular
    with fake_client() as (fake, client):
        connection = client._connection
        assert connection is not None
        before = len(fake.received)
        cases = {"nan": {"x": float("nan")}, "circular": circular, "object": {"x": {1, 2}}}
        for _name, params in cases.items():
            with pytest.raises(TypeError, match=r"session\.log: the params cannot be sent as JSON"):
                connection.request("session.log", params, timeout=5)
            with pytest.raises(
                TypeError, match=r"session\.abort: the params cannot be sent as JSON"
            ):
                connection.request_async("session.abort", params, lambda r, e: None)
            with pytest.raises(TypeError, match=r"some\.note: the params cannot be sent as JSON"):
                connection.notify("some.note", params)
        assert connection.pending_count == 0
        assert client.ping("after").message == "pong: after"
        assert len([m for m in fake.received[before:] if m.get("method") != "ping"]) == 0
    record(
        "A request/notification whose params JSON cannot carry (NaN, circular, a set)",
        figure=f"{len(cases) * 3} calls",
        outcome="TypeError naming the method, before anything is sent; nothing "
        "pending; the connection goes on",
    )


def test_prompt_with_a_lone_surrogate_round_trips(record):
    """A prompt with a lone surrogate reaches the CLI (as U+FFFD) and the turn ends."""
    with fake_client() as (_fake, client):
        session = client.create_session()
        reply = session.send_and_wait("file \udcff here", timeout=10)
        assert reply.data.content == "echo: file \ufffd here"
    record(
        "A prompt with a lone surrogate",
        figure="1 turn",
        outcome="sent with U+FFFD in its place; the turn ends normally",
    )


def test_real_cli_tool_result_with_a_lone_surrogate(real_cli, cli_env, model, record):
    """The real CLI: a tool returning a lone surrogate gets its result to the model; the turn ends."""
    from copilot_sync import PermissionHandler

    @define_tool(description="Lists the files in the current directory")
    def list_files() -> str:
        return "report-\udcff.txt"

    model.add_tool_call("list_files", {}, call_id="call_ls")
    model.add_reply("done listing")
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        session = client.create_session(
            model=model.model,
            provider=model.provider(),
            tools=[list_files],
            on_permission_request=PermissionHandler.approve_all,
        )
        reply, error, took = _timed(session.send_and_wait, "list the files", timeout=60)
        assert error is None, error
        assert reply.data.content == "done listing"
        second = model.wait_for_requests(2, timeout=10)[1]
        tool_text = second.tool_results[-1]["content"]
    finally:
        stop_client(client)
    assert tool_text == "report-\ufffd.txt"
    record(
        "Real CLI: a tool result with a lone surrogate",
        figure=f"turn ended in {took:.2f} s; the model got {tool_text!a}",
        outcome="the result reaches the CLI and the model with U+FFFD in place of the surrogate; the turn ends "
        "(before: the worker raised UnicodeEncodeError, nothing was sent and the turn hung)",
    )


# ============================================================================ C. frames too large, nested too deep

FATAL = [
    (
        "Content-Length: 100000000000000000000",
        b"Content-Length: 100000000000000000000\r\n\r\n{}",
        "100,000,000,000,000,000,000-byte frame is above the limit of 268,435,456 bytes",
    ),
    (
        "Content-Length with 5,000 digits",
        b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}",
        "5000-digit Content-Length frame is above the limit",
    ),
    ("JSON nested 100,000 deep ('[' * 100000)", encode_frame(b"[" * 100000), "nested too deeply"),
    (
        "JSON object nested 100,000 deep",
        encode_frame(b'{"a":' * 100000 + b"1" + b"}" * 100000),
        "nested too deeply",
    ),
]


@pytest.mark.parametrize("name, data, message", FATAL, ids=[c[0] for c in FATAL])
def test_unreadable_frames_fail_every_waiter_at_once(name, data, message, caplog, record):
    caplog.set_level(logging.ERROR, logger="copilot_sync")
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
        for thread, _ in waiters:
            thread.join(5)
        outcomes = [out.get("error") for _, out in waiters]
        assert all(isinstance(o, ProtocolError) for o in outcomes), outcomes
        assert all(message in str(o) for o in outcomes), outcomes
        latency = max(out["at"] for _, out in waiters) - sent_at
        assert latency < 1.0
        assert client.state is ConnectionState.ERROR
        assert _logged(caplog, logging.ERROR, message)
    record(
        name,
        figure=f"{len(data):,} bytes; 2 waiters failed {latency * 1000:.0f} ms after they were sent",
        outcome=f"connection closed at once, ERROR logged; every waiter: ProtocolError ('{message}')",
    )


def test_max_frame_bytes_is_configurable(record):
    """A transport with max_frame_bytes=1024: a 2 KiB answer fails the connection at once."""
    peer = RawPeer(answer=lambda message: {"blob": "b" * 2048})
    transport = SocketTransport("127.0.0.1", peer.port, max_frame_bytes=1024)
    try:
        connection = _bare_connection(transport.reader, transport.writer, transport.describe_end)
        assert connection.max_frame_bytes == 1024
        assert connection.request("connect", {}, timeout=5) == HANDSHAKE
        _, error, took = _timed(connection.request, "ping", {}, timeout=30)
        assert isinstance(error, FrameTooLargeError) and error.limit is not None, error
        assert "above the limit of 1,024 bytes (max_frame_bytes)" in str(error)
        assert took < 1.0
    finally:
        transport.close()
        peer.close()
    with pytest.raises(ValueError):
        SocketTransport("127.0.0.1", 1, max_frame_bytes=0)
    record(
        "max_frame_bytes=1024 on the transport, a 2 KiB answer",
        figure=f"the request failed after {took * 1000:.0f} ms",
        outcome="FrameTooLargeError (a ProtocolError) naming the size and the limit; default 256 MiB",
    )


def test_a_frame_just_under_the_limit_is_read(record):
    """The limit is inclusive of what is allowed: a frame of exactly max_frame_bytes is read."""

    def answer(message: dict) -> Any:
        overhead = len(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {"blob": ""}}))
        return {"blob": "c" * (4096 - overhead)}

    peer = RawPeer(answer=answer)
    transport = SocketTransport("127.0.0.1", peer.port, max_frame_bytes=4096)
    try:
        connection = _bare_connection(transport.reader, transport.writer, transport.describe_end)
        connection.request("connect", {}, timeout=5)
        result = connection.request("ping", {}, timeout=5)
        assert len(json.dumps({"jsonrpc": "2.0", "id": 2, "result": result})) == 4096
    finally:
        transport.close()
        peer.close()
    record(
        "A frame of exactly max_frame_bytes",
        figure="4,096-byte frame, limit 4,096",
        outcome="read normally",
    )


def test_socket_transport_close_is_immediate_with_a_reader_blocked(record):
    """SocketTransport.close() with the reader thread blocked in recv returns at once; the
    reader thread ends and closes its file."""
    peer = RawPeer()
    transport = SocketTransport("127.0.0.1", peer.port)
    try:
        ended = threading.Event()
        connection = JsonRpcConnection(
            transport.reader,
            transport.writer,
            on_notification=lambda m, p: None,
            on_request=lambda i, m, p: None,
            on_close=lambda e: ended.set(),
            describe_end=transport.describe_end,
            name="copilot-reader-test",
        )
        connection.start()
        assert connection.request("connect", {}, timeout=5) == HANDSHAKE
        _, error, took = _timed(transport.close)
        assert error is None and took < 0.1
        connection.join(2)
        assert not connection.reader_thread.is_alive()
        assert transport.reader.closed and transport.sock.fileno() == -1
    finally:
        peer.close()
    record(
        "SocketTransport.close() while the reader thread is blocked in recv",
        figure=f"{took * 1000:.1f} ms",
        outcome="returns at once; the reader wakes (shutdown) and closes its file",
    )
