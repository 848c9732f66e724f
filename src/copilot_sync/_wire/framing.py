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

import collections
import contextlib
import logging
import math
import os
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol, runtime_checkable

from .timeouts import WAIT_SLICE, wait_interruptibly

__all__ = [
    "BACKGROUND_WRITE_TIMEOUT",
    "DEFAULT_MAX_FRAME_BYTES",
    "ByteSink",
    "FrameReader",
    "FrameTooLargeError",
    "FrameWriteTimeout",
    "FrameWriter",
    "FramingError",
    "PipeSink",
    "SocketSink",
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
_MSG_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_monotonic = time.monotonic


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


class _Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def flush(self) -> Any: ...


def encode_frame(body: bytes) -> bytes:
    """Return ``body`` with its Content-Length header in front."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


# ============================================================================ reading


class FrameReader:
    """Reads frames from a buffered binary stream (``io.BufferedReader`` or ``socket.makefile``)."""

    __slots__ = ("_stream", "max_frame_bytes", "frames_read", "frames_skipped", "_guard", "_active", "_closing", "_closed")

    def __init__(self, stream: _Readable | BinaryIO, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self._stream = stream
        self.max_frame_bytes = check_max_frame_bytes(max_frame_bytes)
        self.frames_read = 0
        self.frames_skipped = 0
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
                length = self._length(line[16:-2])  # the usual header, exactly as the CLI writes it
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
    def reading(self) -> Iterator[None]:
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


@runtime_checkable
class ByteSink(Protocol):
    """Where a :class:`FrameWriter` puts its bytes, without ever blocking."""

    def send(self, data: memoryview, /) -> int:
        """Write what can be written now (never blocks); the number of bytes, 0 if none fit."""
        ...

    def wait_writable(self, timeout: float, /) -> None:
        """Return when there may be room, or after ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release the underlying stream; never blocks, never flushes."""
        ...


def _wait_writable(fd: int, timeout: float) -> None:
    if fd < 0:  # closed meanwhile: the next send reports it
        return
    if hasattr(select, "poll"):  # select() cannot watch descriptors above FD_SETSIZE (1024)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        poller.poll(max(0, math.ceil(timeout * 1000)))
    else:  # pragma: no cover - platforms without poll()
        select.select([], [fd], [fd], timeout)


class PipeSink:
    """The write end of a pipe (a child's stdin), switched to non-blocking mode.

    Bytes go to the file descriptor with ``os.write``, never through the file object's
    buffer, so closing never flushes (a flush into a full pipe blocks).
    """

    __slots__ = ("_stream", "_fd")

    def __init__(self, stream: BinaryIO | Any) -> None:
        self._stream = stream
        self._fd: int = stream.fileno()
        os.set_blocking(self._fd, False)  # only our end: the child's read end is its own file description

    def send(self, data: memoryview) -> int:
        try:
            return os.write(self._fd, data)
        except BlockingIOError:
            return 0

    def wait_writable(self, timeout: float) -> None:
        _wait_writable(self._fd, timeout)

    def close(self) -> None:
        # The raw file, not the buffered one: BufferedWriter.close() flushes first. A buffered
        # object whose raw file is closed counts as closed, so a later close() of it is a no-op.
        raw = getattr(self._stream, "raw", self._stream)
        try:
            raw.close()
        except (OSError, ValueError):
            pass


class SocketSink:
    """A connected socket, written with ``MSG_DONTWAIT`` so that the socket itself can stay
    in blocking mode for the reader thread."""

    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: memoryview) -> int:
        if not _MSG_DONTWAIT:  # pragma: no cover - platforms without MSG_DONTWAIT: small, polled sends
            _wait_writable(self._sock.fileno(), 0)
            data = data[:4096]
        try:
            return self._sock.send(data, _MSG_DONTWAIT)
        except BlockingIOError:
            return 0

    def wait_writable(self, timeout: float) -> None:
        _wait_writable(self._sock.fileno(), timeout)

    def close(self) -> None:
        # No SO_LINGER: close() never waits for unsent data. If a makefile() reader still
        # holds the socket, the descriptor is released when that reader closes its file.
        try:
            self._sock.close()
        except OSError:
            pass


class _StreamSink:
    """A plain binary stream (in-memory streams, tests): written whole, blocking."""

    __slots__ = ("_stream",)

    def __init__(self, stream: _Writable | BinaryIO) -> None:
        self._stream = stream

    def send(self, data: memoryview) -> int:
        self._stream.write(bytes(data))
        self._stream.flush()
        return len(data)

    def wait_writable(self, timeout: float) -> None:
        pass

    def close(self) -> None:
        pass


class _DeadlinePassed(Exception):
    pass


WriteErrorCallback = Callable[[BaseException], None]


class FrameWriter:
    """Writes whole frames, one at a time (one lock per frame, so frames from many threads
    never interleave), each within its caller's deadline. See the module docstring."""

    __slots__ = (
        "_sink", "_lock", "_state", "_closed", "_close_sink", "_sink_closed", "_failed", "background_timeout", "thread_name",
        "_backlog", "_drainer",
    )

    def __init__(
        self,
        sink: ByteSink | _Writable | BinaryIO,
        *,
        background_timeout: float = BACKGROUND_WRITE_TIMEOUT,
        thread_name: str = "copilot-writer",
    ) -> None:
        self._sink: ByteSink = sink if isinstance(sink, ByteSink) else _StreamSink(sink)
        self._lock = threading.Lock()  # held while one frame is written
        self._state = threading.Lock()  # orders close() against the lock holder letting go
        self._closed: str | None = None  # why frames are refused (refuse() or close())
        self._close_sink = False  # close() was called: the sink goes when no frame is being written
        self._sink_closed = False
        self._failed: str | None = None  # set when a frame was cut short
        #: Bound of the background writes (:meth:`write_frame_nowait`, a Ctrl-C'd frame's rest).
        self.background_timeout = background_timeout
        self.thread_name = thread_name
        # Frames handed over by write_frame_nowait() while another frame was being written,
        # in order; one drainer thread at a time writes them (never a thread per frame).
        self._backlog: collections.deque[tuple[memoryview, float, WriteErrorCallback | None]] = collections.deque()
        self._drainer: threading.Thread | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def usable(self) -> bool:
        """False once the writer was closed or a frame was cut short."""
        return self._closed is None and self._failed is None

    # ------------------------------------------------------------------ writing

    def write_frame(self, body: bytes, timeout: float | None = None, *, on_background_error: WriteErrorCallback | None = None) -> None:
        """Write one frame within ``timeout`` seconds (``None``: no limit; Ctrl-C still works).

        Raises :class:`FrameWriteTimeout` (``sent`` says whether the stream was cut),
        :class:`WriterClosedError`, or the sink's ``OSError``. If an exception that is not an
        ``OSError`` (Ctrl-C) interrupts the frame midway, its rest is written in the
        background and ``on_background_error`` is told if that fails.
        """
        self._check_usable()
        data = encode_frame(body)
        end = None if timeout is None else _monotonic() + timeout
        if not self._lock.acquire(blocking=False) and not wait_interruptibly(self._lock, timeout):
            raise FrameWriteTimeout(0, len(data), f"another frame was still being written after {timeout:g}s")
        self._write_holding_lock(memoryview(data), end, on_background_error)

    def write_frame_nowait(self, body: bytes, on_error: WriteErrorCallback, timeout: float | None = None) -> bool:
        """Write one frame without ever waiting: True if it went out whole at once; False if
        it (or its rest) is being written by a background thread (``copilot-writer``) within
        ``timeout`` (default :attr:`background_timeout`), which calls ``on_error(exc)`` if that
        fails (:class:`FrameWriteTimeout`, :class:`WriterClosedError`, ``OSError``).
        Raises at once if the writer is closed or the sink fails."""
        self._check_usable()
        data = memoryview(encode_frame(body))
        end = _monotonic() + (self.background_timeout if timeout is None else timeout)
        if not self._lock.acquire(blocking=False):  # someone else is writing: do not wait for them
            self._queue_background(data, end, on_error)
            return False
        progress = [0]
        try:
            self._check_usable()
            if self._pump(data, progress, end, wait=False):
                self._release()
                return True
        except BaseException as exc:
            if 0 < progress[0] < len(data) and not isinstance(exc, OSError):
                self._start_background(data, progress[0], end, on_error, holding_lock=True)
            else:
                self._fail_if_cut(progress[0], len(data), exc)
                self._release()
            raise
        self._start_background(data, progress[0], end, on_error, holding_lock=True)
        return False

    def _write_holding_lock(self, data: memoryview, end: float | None, on_background_error: WriteErrorCallback | None) -> None:
        progress = [0]
        try:
            self._check_usable()
            self._pump(data, progress, end, wait=True)
        except _DeadlinePassed:
            sent = progress[0]
            self._fail_if_cut(sent, len(data), None)
            self._release()
            raise FrameWriteTimeout(sent, len(data), _stalled(sent, len(data))) from None
        except BaseException as exc:
            if 0 < progress[0] < len(data) and not isinstance(exc, OSError):
                # Ctrl-C in the middle of a frame: finish it in the background rather than cut
                # the stream (which would end the connection).
                self._start_background(
                    data, progress[0], _monotonic() + self.background_timeout, on_background_error, holding_lock=True
                )
            else:
                self._fail_if_cut(progress[0], len(data), exc)
                self._release()
            raise
        self._release()

    def _pump(self, data: memoryview, progress: list[int], end: float | None, *, wait: bool) -> bool:
        """Write ``data[progress[0]:]``, keeping ``progress[0]`` up to date. True when all of it
        is written; False when nothing more fits and ``wait`` is False; ``_DeadlinePassed``."""
        send = self._sink.send
        total = len(data)
        while True:
            if self._closed is not None:
                raise WriterClosedError(self._closed)
            sent = send(data[progress[0]:])
            progress[0] += sent
            if progress[0] >= total:
                return True
            if sent:
                continue  # room may have appeared meanwhile: only wait when nothing fits
            if not wait:
                return False
            if end is None:
                step = WAIT_SLICE
            else:
                left = end - _monotonic()
                if left <= 0:
                    raise _DeadlinePassed
                step = min(left, WAIT_SLICE)
            self._sink.wait_writable(step)

    def _check_usable(self) -> None:
        if self._closed is not None:
            raise WriterClosedError(self._closed)
        if self._failed is not None:
            raise WriterClosedError(self._failed)

    def _fail_if_cut(self, sent: int, total: int, exc: BaseException | None) -> None:
        if 0 < sent < total and self._failed is None:
            why = "the deadline passed" if exc is None else f"{type(exc).__name__}: {exc}"
            self._failed = f"a frame was cut short after {sent} of {total} bytes ({why}); the stream is unusable"

    # ------------------------------------------------------------------ background

    def _start_background(
        self,
        data: memoryview,
        sent: int,
        end: float,
        on_error: WriteErrorCallback | None,
        *,
        holding_lock: bool,
    ) -> None:
        thread = threading.Thread(
            target=self._background, args=(data, sent, end, on_error, holding_lock), name=self.thread_name, daemon=True
        )
        try:
            thread.start()
        except BaseException:  # no thread (interpreter shutting down): let go, as if it timed out
            if holding_lock:
                self._fail_if_cut(sent, len(data), None)
                self._release()
            raise

    def _queue_background(self, data: memoryview, end: float, on_error: WriteErrorCallback | None) -> None:
        """Hand a whole frame to the drainer thread, starting it if none runs."""
        with self._state:
            self._backlog.append((data, end, on_error))
            if self._drainer is not None:
                return
            thread = self._drainer = threading.Thread(target=self._drain, name=self.thread_name, daemon=True)
        try:
            thread.start()
        except BaseException:  # no thread (interpreter shutting down): nothing will write it
            with self._state:
                self._drainer = None
                self._backlog.clear()
            raise

    def _drain(self) -> None:
        """The drainer thread: write queued frames in order, each within its own deadline."""
        while True:
            with self._state:
                if not self._backlog:
                    self._drainer = None
                    return
                data, end, on_error = self._backlog.popleft()
            self._background(data, 0, end, on_error, False)

    def _background(
        self, data: memoryview, sent: int, end: float, on_error: WriteErrorCallback | None, holding_lock: bool
    ) -> None:
        try:
            if not holding_lock and not self._acquire_until(end):
                raise FrameWriteTimeout(0, len(data), "another frame was still being written when the deadline passed")
            progress = [sent]
            try:
                self._check_usable()
                self._pump(data, progress, end, wait=True)
            except _DeadlinePassed:
                self._fail_if_cut(progress[0], len(data), None)
                raise FrameWriteTimeout(progress[0], len(data), _stalled(progress[0], len(data))) from None
            except BaseException as exc:
                self._fail_if_cut(progress[0], len(data), exc)
                raise
            finally:
                self._release()
        except BaseException as exc:  # noqa: BLE001 - reported to the owner, never lost
            if on_error is None:
                logger.error("a frame could not be written: %s", exc)
                return
            try:
                on_error(exc)
            except Exception:
                logger.exception("the handler of a failed background write failed")

    def _acquire_until(self, end: float) -> bool:
        while True:
            left = end - _monotonic()
            if left <= 0:
                return bool(self._lock.acquire(blocking=False))
            if self._lock.acquire(timeout=min(left, WAIT_SLICE)):
                return True

    # ------------------------------------------------------------------ closing

    def refuse(self, reason: str) -> None:
        """Refuse every later frame and stop the one being written (within one wait slice);
        the sink stays open until :meth:`close`. Never blocks."""
        with self._state:
            if self._closed is None:
                self._closed = reason

    def close(self, reason: str = "the frame writer was closed") -> None:
        """Refuse every later frame and release the sink; never blocks. A frame being written
        stops within one wait slice, and that thread closes the sink as it lets go."""
        with self._state:
            if self._closed is None:
                self._closed = reason
            self._close_sink = True
        self._close_sink_if_idle()

    def _release(self) -> None:
        """Let go of the frame lock; after close(), whoever lets go last closes the sink."""
        self._lock.release()
        if self._close_sink and not self._sink_closed:
            self._close_sink_if_idle()

    def _close_sink_if_idle(self) -> None:
        # Only with the frame lock held: a descriptor is never closed under a thread still
        # writing to it (its number could be reused by then). If the lock is busy, its holder
        # checks again in _release() after letting go.
        if not self._lock.acquire(blocking=False):
            return
        try:
            with self._state:
                if self._sink_closed:
                    return
                self._sink_closed = True
            self._sink.close()
        finally:
            self._lock.release()


def _stalled(sent: int, total: int) -> str:
    return f"the peer stopped reading: {sent} of {total} bytes of the frame were written when the deadline passed"
