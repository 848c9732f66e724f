"""Content-Length framing: the documented outcome for every kind of bad input."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_sync._wire.framing import (
    FrameReader,
    FrameTooLargeError,
    FrameWriteTimeout,
    FramingError,
    WriterClosedError,
    check_max_frame_bytes,
    encode_frame,
)
from copilot_sync._wire.writer import FrameWriter, PipeSink, SocketSink


def reader(data: bytes, **kwargs) -> FrameReader:
    return FrameReader(io.BufferedReader(io.BytesIO(data)), **kwargs)


def test_reads_consecutive_frames_and_then_a_clean_end():
    data = encode_frame(b'{"a":1}') + encode_frame(b"") + encode_frame('{"é":"ü"}'.encode())
    frames = reader(data)
    assert frames.read_frame() == b'{"a":1}'
    assert frames.read_frame() == b""
    assert json.loads(frames.read_frame()) == {"é": "ü"}
    assert frames.read_frame() is None


def test_length_counts_bytes_not_characters():
    body = json.dumps({"text": "日本語 ✓"}, ensure_ascii=False).encode()
    assert encode_frame(body).startswith(b"Content-Length: %d\r\n\r\n" % len(body))
    assert reader(encode_frame(body)).read_frame() == body


def test_any_headers_case_insensitive_and_bare_lf():
    data = (
        b"Content-Type: application/json\r\ncontent-LENGTH: 2\r\n\r\n{}"
        + b"Content-Length: 2\n\n[]"
    )
    frames = reader(data)
    assert frames.read_frame() == b"{}"
    assert frames.read_frame() == b"[]"


def test_a_header_block_without_content_length_is_skipped():
    data = b"X-Nothing: here\r\n\r\n" + encode_frame(b"{}")
    frames = reader(data)
    assert frames.read_frame() == b"{}"
    assert frames.frames_skipped == 1


@pytest.mark.parametrize("value", [b"-5", b"abc", b"1e3", b"", b"0x10"])
def test_a_bad_length_fails_the_stream(value):
    with pytest.raises(FramingError):
        reader(b"Content-Length: " + value + b"\r\n\r\n{}").read_frame()


def test_a_truncated_body_fails_the_stream():
    with pytest.raises(FramingError, match="inside a frame body"):
        reader(b"Content-Length: 10\r\n\r\n{}").read_frame()


def test_a_truncated_header_fails_the_stream():
    with pytest.raises(FramingError, match="header"):
        reader(b"Content-Length: 10\r\n").read_frame()


def test_a_header_line_without_colon_fails_the_stream():
    with pytest.raises(FramingError, match="malformed header"):
        reader(b"garbage garbage\r\n\r\n").read_frame()


def test_an_oversized_frame_fails_the_stream_at_once_naming_size_and_limit():
    stream = io.BufferedReader(io.BytesIO(encode_frame(b"x" * 5000) + encode_frame(b"{}")))
    frames = FrameReader(stream, max_frame_bytes=1000)
    with pytest.raises(
        FrameTooLargeError, match=r"5,000-byte frame is above the limit of 1,000 bytes"
    ) as info:
        frames.read_frame()
    assert (info.value.size, info.value.limit) == (5000, 1000)
    assert stream.tell() == len(
        b"Content-Length: 5000\r\n\r\n"
    )  # not one byte of the body was read


def test_a_20_mb_frame_is_read_whole():
    body = json.dumps({"blob": "y" * (20 * 1024 * 1024)}).encode()
    assert reader(encode_frame(body)).read_frame() == body


def test_frames_from_many_threads_never_interleave():
    sink = io.BytesIO()
    writer = FrameWriter(sink)
    bodies = [
        json.dumps({"thread": t, "i": i, "pad": "z" * (i % 50)}).encode()
        for t in range(8)
        for i in range(200)
    ]

    def write(chunk):
        for body in chunk:
            writer.write_frame(body)

    threads = [threading.Thread(target=write, args=(bodies[t::8],)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frames = reader(sink.getvalue())
    seen = []
    while (frame := frames.read_frame()) is not None:
        seen.append(frame)
    assert sorted(seen) == sorted(bodies)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_property_any_bodies_round_trip(bodies):
    data = b"".join(encode_frame(body) for body in bodies)
    frames = reader(data)
    assert [frames.read_frame() for _ in bodies] == bodies
    assert frames.read_frame() is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_property_arbitrary_bytes_never_hang_or_crash_unexpectedly(data):
    frames = reader(data)
    for _ in range(len(data) + 2):  # every call consumes bytes, so this always ends
        try:
            if frames.read_frame() is None:
                break
        except FramingError:
            break
    else:
        pytest.fail("the reader kept returning frames from finite input")


# ============================================================================ limits on reading


@pytest.mark.parametrize("digits", [b"100000000000000000000", b"9" * 5000, b"0" * 40 + b"5000"])
def test_huge_or_long_content_lengths_are_too_large_never_a_value_error(digits):
    data = b"Content-Length: " + digits + b"\r\n\r\n{}"
    for stream in (
        data,
        data.replace(b"Content-Length", b"content-length"),
    ):  # fast path and general path
        with pytest.raises(FrameTooLargeError, match="above the limit of 1,000 bytes"):
            reader(stream, max_frame_bytes=1000).read_frame()


def test_a_frame_of_exactly_the_limit_is_read():
    assert reader(encode_frame(b"x" * 1000), max_frame_bytes=1000).read_frame() == b"x" * 1000


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1, ValueError), (True, TypeError), (1.5, TypeError), ("9", TypeError)],
)
def test_max_frame_bytes_is_checked(value, error):
    with pytest.raises(error, match="max_frame_bytes"):
        FrameReader(io.BytesIO(b""), max_frame_bytes=value)
    with pytest.raises(error):
        check_max_frame_bytes(value)


@pytest.mark.timeout(10)
def test_close_from_another_thread_never_blocks_a_blocked_reader():
    """A buffered pipe cannot be closed under a blocked read without waiting for it: close()
    leaves the stream to the reading thread, which closes it when its read returns."""
    rfd, wfd = os.pipe()
    frames = FrameReader(os.fdopen(rfd, "rb"))
    got: list = []

    def read() -> None:
        with frames.reading():
            got.append(frames.read_frame())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    time.sleep(0.1)
    began = time.monotonic()
    frames.close()
    assert time.monotonic() - began < 0.1
    assert thread.is_alive() and not frames.closed
    os.close(wfd)  # the read returns (end of stream), and the reading thread closes the stream
    thread.join(5)
    assert got == [None] and frames.closed
    with pytest.raises(ValueError), frames.reading():
        pass


# ============================================================================ bounded writes


def _pipe_writer(**options) -> tuple[int, FrameWriter, PipeSink]:
    rfd, wfd = os.pipe()
    sink = PipeSink(os.fdopen(wfd, "wb"))
    return rfd, FrameWriter(sink, **options), sink


def _fill(writer: FrameWriter) -> int:
    """Write small frames until the pipe is full; how many went in."""
    count = 0
    while True:
        try:
            writer.write_frame(b"{}", timeout=0.05)
        except FrameWriteTimeout as exc:
            assert exc.sent == 0 and not exc.cut
            return count
        count += 1


def _drain(rfd: int) -> bytes:
    """Read everything the pipe holds now, then close it."""
    os.set_blocking(rfd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(rfd, 1 << 20)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _frames_in(data: bytes) -> list[bytes]:
    frames = reader(data)
    out = []
    while (frame := frames.read_frame()) is not None:
        out.append(frame)
    return out


@pytest.mark.timeout(10)
def test_nothing_written_before_the_deadline_leaves_the_writer_usable():
    rfd, writer, _ = _pipe_writer()
    try:
        count = _fill(writer)
        began = time.monotonic()
        with pytest.raises(FrameWriteTimeout) as info:
            writer.write_frame(b'{"late":1}', timeout=0.3)
        assert 0.25 < time.monotonic() - began < 1.5
        assert info.value.sent == 0 and writer.usable
        assert _frames_in(_drain(rfd)) == [b"{}"] * count
        writer.write_frame(b'{"now":1}', timeout=1)
        assert _frames_in(_drain(rfd)) == [b'{"now":1}']
    finally:
        writer.close()
        os.close(rfd)


@pytest.mark.timeout(10)
def test_a_frame_cut_by_the_deadline_makes_the_writer_refuse_more():
    rfd, writer, _ = _pipe_writer()
    try:
        began = time.monotonic()
        with pytest.raises(FrameWriteTimeout) as info:
            writer.write_frame(b"c" * (1 << 20), timeout=0.3)
        assert time.monotonic() - began < 1.5
        assert info.value.cut and 0 < info.value.sent < info.value.total
        assert "stopped reading" in str(info.value)
        assert not writer.usable
        with pytest.raises(WriterClosedError, match="cut short"):
            writer.write_frame(b"{}", timeout=1)
    finally:
        writer.close()
        os.close(rfd)


@pytest.mark.timeout(10)
def test_waiting_for_the_frame_lock_counts_against_the_deadline():
    rfd, writer, _ = _pipe_writer()
    try:
        stuck_out: dict = {}

        def stuck() -> None:
            try:
                writer.write_frame(b"s" * (1 << 20), timeout=None)
            except BaseException as exc:
                stuck_out["error"] = exc

        thread = threading.Thread(target=stuck, daemon=True)
        thread.start()
        time.sleep(0.2)
        began = time.monotonic()
        with pytest.raises(FrameWriteTimeout) as info:
            writer.write_frame(b"{}", timeout=0.3)
        assert time.monotonic() - began < 1.5 and info.value.sent == 0
        began = time.monotonic()
        writer.close()  # never waits for the stuck writer...
        assert time.monotonic() - began < 0.1
        thread.join(2)  # ...which notices within one wait slice
        assert isinstance(stuck_out.get("error"), WriterClosedError)
        assert os.read(
            rfd, 1 << 20
        )  # what was written, then end of stream: the writer closed the pipe
        os.set_blocking(rfd, True)
        while os.read(rfd, 1 << 20):
            pass
    finally:
        os.close(rfd)


@pytest.mark.timeout(10)
def test_close_never_flushes_a_buffered_pipe():
    rfd, wfd = os.pipe()
    stream = os.fdopen(wfd, "wb", buffering=1 << 16)
    sink = PipeSink(stream)
    writer = FrameWriter(sink)
    try:
        _fill(writer)
        began = time.monotonic()
        writer.close()
        stream.close()  # the buffered object is closed already (its raw file is): no flush, no block
        assert time.monotonic() - began < 0.1 and stream.closed
    finally:
        os.close(rfd)


@pytest.mark.timeout(10)
def test_write_frame_nowait_writes_at_once_or_in_the_background():
    rfd, writer, _ = _pipe_writer(background_timeout=5)
    errors: list = []
    try:
        assert writer.write_frame_nowait(b'{"a":1}', errors.append) is True
        body = b"n" * (1 << 20)
        began = time.monotonic()
        assert writer.write_frame_nowait(body, errors.append) is False  # the pipe holds 64 KiB
        assert time.monotonic() - began < 0.1
        data = b""
        os.set_blocking(rfd, True)
        while len(data) < len(encode_frame(b'{"a":1}')) + len(encode_frame(body)):
            data += os.read(rfd, 1 << 20)
        assert _frames_in(data) == [b'{"a":1}', body]
        assert errors == []
    finally:
        writer.close()
        os.close(rfd)


@pytest.mark.timeout(10)
def test_write_frame_nowait_reports_a_background_failure():
    rfd, writer, _ = _pipe_writer(background_timeout=0.3)
    failed = threading.Event()
    errors: list = []

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        failed.set()

    try:
        assert writer.write_frame_nowait(b"f" * (1 << 20), on_error) is False
        assert failed.wait(3)
        assert isinstance(errors[0], FrameWriteTimeout) and errors[0].cut
        with pytest.raises(WriterClosedError):
            writer.write_frame_nowait(b"{}", on_error)
    finally:
        writer.close()
        os.close(rfd)


@pytest.mark.timeout(10)
def test_ctrl_c_in_the_middle_of_a_frame_finishes_it_in_the_background():
    """KeyboardInterrupt while a frame is half written: the exception propagates at once and
    the rest of the frame still goes out, so the stream stays readable."""
    rfd, writer, _ = _pipe_writer(background_timeout=5)
    body = b"k" * (1 << 20)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with pytest.raises(KeyboardInterrupt):
            writer.write_frame(body, timeout=None)
        data = b""
        os.set_blocking(rfd, True)
        while len(data) < len(encode_frame(body)):
            data += os.read(rfd, 1 << 20)
        assert _frames_in(data) == [body]
        assert writer.usable
        writer.write_frame(b'{"next":1}', timeout=5)
        assert os.read(rfd, 1 << 10) == encode_frame(b'{"next":1}')
    finally:
        signal.signal(signal.SIGUSR1, previous)
        writer.close()
        os.close(rfd)


@pytest.mark.timeout(10)
def test_socket_writes_are_bounded_while_the_socket_stays_blocking_for_reads():
    ours, theirs = socket.socketpair()
    writer = FrameWriter(SocketSink(ours))
    try:
        with pytest.raises(FrameWriteTimeout) as info:
            writer.write_frame(b"t" * (8 << 20), timeout=0.3)
        assert info.value.cut
        assert ours.gettimeout() is None  # still blocking for a reader thread
    finally:
        writer.close()
        theirs.close()
    assert ours.fileno() == -1  # closed by the writer
