"""Content-Length framing (LSP style) for JSON-RPC over pipes and sockets.

A frame is ASCII header lines ending in CRLF, an empty line, then exactly
``Content-Length`` bytes of UTF-8 JSON. Readers accept any header lines (bare LF is
tolerated too) and look ``Content-Length`` up case-insensitively.

Reading: what a reader does with bad input (the documented outcomes)
--------------------------------------------------------------------

* a header block with no ``Content-Length``: the block is skipped and logged, reading goes on;
* a ``Content-Length`` that is not a non-negative integer, or a header line that is not
  ``<token>: <value>`` (what a wrong ``Content-Length`` leaves behind: the reader is then
  inside some frame's body): :class:`FramingError` (the stream cannot be resynchronised,
  so the connection must close);
* a frame larger than ``max_frame_bytes`` (:data:`DEFAULT_MAX_FRAME_BYTES`, 256 MiB, unless
  configured): :class:`FrameTooLargeError`, at once, before any of the body is read. The
  frame might be the answer someone waits for, and reading (or skipping) gigabytes would
  leave every caller waiting for nothing, so the connection must close;
* end of stream in the middle of a frame: :class:`TruncatedFrameError` (the connection
  ends as at any end of stream: the peer usually died while writing);
* end of stream between frames: ``None`` (a clean end).

Decoding the body (UTF-8 and JSON) is left to the caller, which knows what to do with a
frame it cannot decode: the frame boundaries are intact, so it is skipped and logged.

A buffered stream cannot be closed while another thread is blocked reading it (``close()``
waits for the read to return, which may be never). So the thread that reads a stream marks
itself with :meth:`FrameReader.reading` and closes the stream when it is done;
:meth:`FrameReader.close` from any other thread never blocks.

Writing: every write is bounded
-------------------------------

A peer that stops reading (a stopped process, a TCP server that accepts and never reads)
fills the pipe or socket buffer, and a plain ``write`` then blocks forever. So the
:class:`FrameWriter` writes to a non-blocking file descriptor (:class:`PipeSink`,
:class:`SocketSink`) in a loop, waiting for room in slices of at most
:data:`~copilot_sync._wire.timeouts.WAIT_SLICE` (Ctrl-C stays prompt), until the caller's
deadline. One lock per frame keeps frames from many threads apart; waiting for that lock
counts against the same deadline. The outcomes:

* the whole frame was written: the call returns;
* the deadline passed before any byte of the frame was written: :class:`FrameWriteTimeout`
  with ``sent == 0``; the stream is intact and the writer still usable;
* the deadline passed in the middle of the frame: :class:`FrameWriteTimeout` with
  ``sent > 0``; the stream is cut (the peer would read the next frame as the rest of this
  one), so the writer refuses every later frame and its owner must close the connection;
* ``KeyboardInterrupt`` (or another exception that is not an ``OSError``) in the middle of
  a frame: the rest of the frame is written by a background thread (``copilot-writer``)
  within :data:`BACKGROUND_WRITE_TIMEOUT`, so a Ctrl-C never corrupts the stream, and the
  exception propagates at once;
* the writer was closed or told to refuse frames (:meth:`FrameWriter.close`,
  :meth:`FrameWriter.refuse`, from any thread, never blocking): :class:`WriterClosedError`;
  a writer waiting for room notices within one slice;
* the peer is gone: the ``OSError`` of the write (``BrokenPipeError``...).

:meth:`FrameWriter.write_frame_nowait` is for threads that must never wait (the reader and
event threads): it writes what fits at once and hands the rest to a background thread,
bounded by :data:`BACKGROUND_WRITE_TIMEOUT` and reported through a callback.

Closing a writer never flushes a buffered pipe (nothing is ever buffered there: frames go to
the file descriptor) and never waits for a write in progress: the thread writing closes the
sink when it lets go, so a descriptor is never closed under a thread that still writes to it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Generator
from typing import Any, BinaryIO, Protocol

__all__ = [
    "BACKGROUND_WRITE_TIMEOUT",
    "DEFAULT_MAX_FRAME_BYTES",
    "FrameReader",
    "FrameTooLargeError",
    "FrameWriteTimeout",
    "FramingError",
    "TruncatedFrameError",
    "WriterClosedError",
    "check_max_frame_bytes",
    "encode_frame",
]

logger = logging.getLogger("copilot_sync.transport")

#: Frames above this size fail the connection (:class:`FrameTooLargeError`); configurable
#: per reader (``max_frame_bytes``).
DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024
#: How long a write that has no caller to give it a deadline may take: answers to the CLI's
#: requests (written by worker threads) and the background part of
#: :meth:`FrameWriter.write_frame_nowait`. A peer that reads nothing for this long is stuck.
BACKGROUND_WRITE_TIMEOUT = 30.0

_MAX_HEADER_LINE = 8192
_MAX_HEADER_LINES = 64
#: A Content-Length with more significant digits than this is above any possible limit; it
#: is reported by its number of digits (``int()`` refuses strings over 4,300 digits anyway).
_MAX_LENGTH_DIGITS = 30
#: A header name is an RFC 7230 token; anything else means the stream lost its frame boundaries.
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class FramingError(Exception):
    """The byte stream cannot be read as Content-Length frames any more."""


class TruncatedFrameError(FramingError):
    """The stream ended in the middle of a frame (usually: the peer died while writing)."""


class FrameTooLargeError(FramingError):
    """The peer announced a frame above ``max_frame_bytes``; nothing of it was read.

    ``size`` is the announced length (``None`` when it has too many digits to hold),
    ``limit`` the reader's ``max_frame_bytes``.
    """

    def __init__(self, size: int | None, limit: int, *, digits: int = 0) -> None:
        shown = f"{size:,}-byte" if size is not None else f"{digits}-digit Content-Length"
        super().__init__(f"a {shown} frame is above the limit of {limit:,} bytes (max_frame_bytes)")
        self.size = size
        self.limit = limit


class FrameWriteTimeout(Exception):
    """The deadline passed before a whole frame was written.

    ``sent`` bytes of the ``total`` went out: 0 means nothing was written and the stream is
    intact; more means the stream is cut in the middle of a frame and cannot be used again.
    """

    def __init__(self, sent: int, total: int, reason: str) -> None:
        super().__init__(reason)
        self.sent = sent
        self.total = total

    @property
    def cut(self) -> bool:
        return self.sent > 0


class WriterClosedError(OSError):
    """The frame writer was closed, or an earlier frame was cut short: nothing more can be sent."""


def check_max_frame_bytes(value: Any, name: str = "max_frame_bytes") -> int:
    """``value`` if it is a positive ``int`` (not a ``bool``); ``ValueError``/``TypeError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (a number of bytes), not {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of bytes, got {value}")
    return value


class _Readable(Protocol):
    def readline(self, size: int = ..., /) -> bytes: ...
    def read(self, size: int = ..., /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def flush(self) -> Any: ...


def encode_frame(body: bytes) -> bytes:
    """Return ``body`` with its Content-Length header in front."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


# ============================================================================ reading


class FrameReader:
    """Reads frames from a buffered binary stream (``io.BufferedReader`` or ``socket.makefile``)."""

    __slots__ = (
        "_active",
        "_closed",
        "_closing",
        "_guard",
        "_stream",
        "frames_read",
        "frames_skipped",
        "max_frame_bytes",
    )

    def __init__(
        self, stream: _Readable | BinaryIO, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ) -> None:
        self._stream = stream
        self.max_frame_bytes: int = check_max_frame_bytes(max_frame_bytes)
        self.frames_read: int = 0
        self.frames_skipped: int = 0
        self._guard = threading.Lock()
        self._active = False  # a thread is inside reading()
        self._closing = False  # close() was called
        self._closed = False  # the stream was closed

    def read_frame(self) -> bytes | None:
        """Block until a whole frame arrives and return its body; ``None`` at a clean end of stream."""
        while True:
            length = self._read_headers()
            if length is None:
                return None
            if length < 0:  # a header block without Content-Length: skipped
                continue
            if length > self.max_frame_bytes:
                raise FrameTooLargeError(length, self.max_frame_bytes)
            body = self._stream.read(length) if length else b""
            if len(body) != length:
                raise TruncatedFrameError(
                    f"stream ended inside a frame body ({len(body)} of {length} bytes)"
                )
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
                length = self._length(line[16:-2])  # the usual header, exactly as the CLI writes it
                lines += 1
                continue
            if not line.endswith(b"\n"):
                if (
                    len(line) < _MAX_HEADER_LINE
                ):  # readline stops short of a newline only at the end
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
                length = self._length(text)
        if length is None:
            self.frames_skipped += 1
            logger.warning("skipped a frame header block without Content-Length")
            return -1
        return length

    def _length(self, digits: bytes) -> int:
        """The Content-Length value; a number too long for ``int()`` is simply too large."""
        significant = digits.lstrip(b"0")
        if len(significant) > _MAX_LENGTH_DIGITS:
            raise FrameTooLargeError(None, self.max_frame_bytes, digits=len(significant))
        return int(significant or b"0")

    # ------------------------------------------------------------------ closing

    @contextlib.contextmanager
    def reading(self) -> Generator[None, None, None]:
        """Mark the calling thread as the one that reads this stream, for as long as the
        ``with`` block runs; the stream is closed when it ends. Meanwhile :meth:`close`
        from another thread leaves the stream to this one. Raises ``ValueError`` if the
        reader was already closed."""
        with self._guard:
            if self._closing:
                raise ValueError("the frame reader was closed")
            self._active = True
        try:
            yield
        finally:
            with self._guard:
                self._active = False
            self._close_stream()

    def close(self) -> None:
        """Close the stream; never blocks. If a thread is inside :meth:`reading`, the stream
        is closed by that thread when its read returns (a buffered stream cannot be closed
        under a blocked reader without waiting for it)."""
        with self._guard:
            self._closing = True
            if self._active:
                return
        self._close_stream()

    @property
    def closed(self) -> bool:
        return self._closed

    def _close_stream(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
        close = getattr(self._stream, "close", None)
        if close is not None:
            try:
                close()
            except (OSError, ValueError):
                pass


# ============================================================================ writing
