"""Content-Length framing: the documented outcome for every kind of bad input."""

from __future__ import annotations

import io
import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_sync._framing import FrameReader, FrameWriter, FramingError, encode_frame


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
    data = b"Content-Type: application/json\r\ncontent-LENGTH: 2\r\n\r\n{}" + b"Content-Length: 2\n\n[]"
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


def test_an_oversized_frame_is_discarded_and_reading_goes_on():
    big = b"x" * 5000
    frames = reader(encode_frame(big) + encode_frame(b"{}"), max_frame_bytes=1000)
    assert frames.read_frame() == b"{}"
    assert frames.frames_skipped == 1


def test_a_20_mb_frame_is_read_whole():
    body = json.dumps({"blob": "y" * (20 * 1024 * 1024)}).encode()
    assert reader(encode_frame(body)).read_frame() == body


def test_frames_from_many_threads_never_interleave():
    sink = io.BytesIO()
    writer = FrameWriter(sink)
    bodies = [json.dumps({"thread": t, "i": i, "pad": "z" * (i % 50)}).encode() for t in range(8) for i in range(200)]

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
