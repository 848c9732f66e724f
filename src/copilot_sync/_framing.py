"""Content-Length framing (LSP style) for JSON-RPC over pipes and sockets.

A frame is ASCII header lines ending in CRLF, an empty line, then exactly
``Content-Length`` bytes of UTF-8 JSON. Readers accept any header lines (bare LF is
tolerated too) and look ``Content-Length`` up case-insensitively.

What a reader does with bad input (the documented outcomes):

* a header block with no ``Content-Length``: the block is skipped and logged, reading goes on;
* a ``Content-Length`` that is not a non-negative integer, or a header line that is not
  ``<token>: <value>`` (what a wrong ``Content-Length`` leaves behind: the reader is then
  inside some frame's body): :class:`FramingError` (the stream cannot be resynchronised,
  so the connection must close);
* a frame larger than ``max_frame_bytes``: its body is read and discarded, logged;
* end of stream in the middle of a frame: :class:`TruncatedFrameError` (the connection
  ends as at any end of stream: the peer usually died while writing);
* end of stream between frames: ``None`` (a clean end).

Decoding the body (UTF-8 and JSON) is left to the caller, which knows what to do with a
frame it cannot decode: the frame boundaries are intact, so it is skipped and logged.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, BinaryIO, Protocol

__all__ = ["FrameReader", "FrameWriter", "FramingError", "TruncatedFrameError", "encode_frame", "DEFAULT_MAX_FRAME_BYTES"]

logger = logging.getLogger("copilot_sync.transport")

#: Frames above this size are discarded (and logged) instead of being held in memory.
DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024
_MAX_HEADER_LINE = 8192
_MAX_HEADER_LINES = 64
_DISCARD_CHUNK = 1 << 20
#: A header name is an RFC 7230 token; anything else means the stream lost its frame boundaries.
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class FramingError(Exception):
    """The byte stream cannot be read as Content-Length frames any more."""


class TruncatedFrameError(FramingError):
    """The stream ended in the middle of a frame (usually: the peer died while writing)."""


class _Readable(Protocol):
    def readline(self, size: int = ..., /) -> bytes: ...
    def read(self, size: int = ..., /) -> bytes: ...


class _Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def flush(self) -> Any: ...


def encode_frame(body: bytes) -> bytes:
    """Return ``body`` with its Content-Length header in front."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameReader:
    """Reads frames from a buffered binary stream (``io.BufferedReader`` or ``socket.makefile``)."""

    __slots__ = ("_stream", "max_frame_bytes", "frames_read", "frames_skipped")

    def __init__(self, stream: _Readable | BinaryIO, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self._stream = stream
        self.max_frame_bytes = max_frame_bytes
        self.frames_read = 0
        self.frames_skipped = 0

    def read_frame(self) -> bytes | None:
        """Block until a whole frame arrives and return its body; ``None`` at a clean end of stream."""
        while True:
            length = self._read_headers()
            if length is None:
                return None
            if length < 0:  # a header block without Content-Length: skipped
                continue
            if length > self.max_frame_bytes:
                self._discard(length)
                continue
            body = self._stream.read(length) if length else b""
            if len(body) != length:
                raise TruncatedFrameError(f"stream ended inside a frame body ({len(body)} of {length} bytes)")
            self.frames_read += 1
            return body

    def _read_headers(self) -> int | None:
        """Read one header block. Returns the length, -1 for a block without one, None at EOF."""
        readline = self._stream.readline
        length: int | None = None
        lines = 0
        while True:
            line = readline(_MAX_HEADER_LINE)
            if not line:
                if lines == 0:
                    return None
                raise TruncatedFrameError("stream ended inside a frame header")
            if line in (b"\r\n", b"\n"):
                if lines == 0:
                    continue  # stray blank line between frames: tolerated
                break
            if line[:16] == b"Content-Length: " and line[-2:] == b"\r\n" and line[16:-2].isdigit():
                length = int(line[16:-2])  # the usual header, exactly as the CLI writes it
                lines += 1
                continue
            if not line.endswith(b"\n"):
                if len(line) < _MAX_HEADER_LINE:  # readline stops short of a newline only at the end
                    raise TruncatedFrameError("stream ended inside a frame header")
                raise FramingError(f"header line longer than {_MAX_HEADER_LINE} bytes")
            lines += 1
            if lines > _MAX_HEADER_LINES:
                raise FramingError(f"more than {_MAX_HEADER_LINES} header lines")
            name, sep, value = line.partition(b":")
            if not sep or not _HEADER_NAME.fullmatch(name.strip()):
                raise FramingError(f"malformed header line {line[:80]!r}")
            if name.strip().lower() == b"content-length":
                text = value.strip()
                if not text.isdigit():
                    raise FramingError(f"invalid Content-Length {text[:40]!r}")
                length = int(text)
        if length is None:
            self.frames_skipped += 1
            logger.warning("skipped a frame header block without Content-Length")
            return -1
        return length

    def _discard(self, length: int) -> None:
        remaining = length
        while remaining:
            chunk = self._stream.read(min(remaining, _DISCARD_CHUNK))
            if not chunk:
                raise TruncatedFrameError("stream ended inside an oversized frame body")
            remaining -= len(chunk)
        self.frames_skipped += 1
        logger.warning("discarded a %d-byte frame (limit %d bytes)", length, self.max_frame_bytes)


class FrameWriter:
    """Writes whole frames; one lock per frame, so frames from many threads never interleave."""

    __slots__ = ("_stream", "_lock")

    def __init__(self, stream: _Writable | BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write_frame(self, body: bytes) -> None:
        data = encode_frame(body)
        with self._lock:
            self._stream.write(data)
            self._stream.flush()
