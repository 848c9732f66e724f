"""Writing frames: byte sinks (pipe, socket) and :class:`FrameWriter`, which writes frames in
order from any thread, bounded by deadlines (see :mod:`.framing` for the rules)."""

from __future__ import annotations

import collections
import logging
import math
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol, runtime_checkable

from .framing import (
    BACKGROUND_WRITE_TIMEOUT,
    FrameWriteTimeout,
    Writable,
    WriterClosedError,
    encode_frame,
)
from .timeouts import WAIT_SLICE, wait_interruptibly

__all__ = ["ByteSink", "FrameWriter", "PipeSink", "SocketSink"]

logger = logging.getLogger("copilot_sync.transport")

_MSG_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_monotonic = time.monotonic


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

    __slots__ = ("_fd", "_stream")

    def __init__(self, stream: BinaryIO | Any) -> None:
        self._stream = stream
        self._fd: int = stream.fileno()
        os.set_blocking(
            self._fd, False
        )  # only our end: the child's read end is its own file description

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
        if (
            not _MSG_DONTWAIT
        ):  # pragma: no cover - platforms without MSG_DONTWAIT: small, polled sends
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

    def __init__(self, stream: Writable | BinaryIO) -> None:
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
        "_backlog",
        "_close_sink",
        "_closed",
        "_drainer",
        "_failed",
        "_lock",
        "_sink",
        "_sink_closed",
        "_state",
        "background_timeout",
        "thread_name",
    )

    def __init__(
        self,
        sink: ByteSink | Writable | BinaryIO,
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
        self.background_timeout: float = background_timeout
        self.thread_name: str = thread_name
        # Frames handed over by write_frame_nowait() while another frame was being written,
        # in order; one drainer thread at a time writes them (never a thread per frame).
        self._backlog: collections.deque[tuple[memoryview, float, WriteErrorCallback | None]] = (
            collections.deque()
        )
        self._drainer: threading.Thread | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def usable(self) -> bool:
        """False once the writer was closed or a frame was cut short."""
        return self._closed is None and self._failed is None

    # ------------------------------------------------------------------ writing

    def write_frame(
        self,
        body: bytes,
        timeout: float | None = None,
        *,
        on_background_error: WriteErrorCallback | None = None,
    ) -> None:
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
            raise FrameWriteTimeout(
                0, len(data), f"another frame was still being written after {timeout:g}s"
            )
        self._write_holding_lock(memoryview(data), end, on_background_error)

    def write_frame_nowait(
        self, body: bytes, on_error: WriteErrorCallback, timeout: float | None = None
    ) -> bool:
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

    def _write_holding_lock(
        self, data: memoryview, end: float | None, on_background_error: WriteErrorCallback | None
    ) -> None:
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
                    data,
                    progress[0],
                    _monotonic() + self.background_timeout,
                    on_background_error,
                    holding_lock=True,
                )
            else:
                self._fail_if_cut(progress[0], len(data), exc)
                self._release()
            raise
        self._release()

    def _pump(
        self, data: memoryview, progress: list[int], end: float | None, *, wait: bool
    ) -> bool:
        """Write ``data[progress[0]:]``, keeping ``progress[0]`` up to date. True when all of it
        is written; False when nothing more fits and ``wait`` is False; ``_DeadlinePassed``."""
        send = self._sink.send
        total = len(data)
        while True:
            if self._closed is not None:
                raise WriterClosedError(self._closed)
            sent = send(data[progress[0] :])
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
            target=self._background,
            args=(data, sent, end, on_error, holding_lock),
            name=self.thread_name,
            daemon=True,
        )
        try:
            thread.start()
        except BaseException:  # no thread (interpreter shutting down): let go, as if it timed out
            if holding_lock:
                self._fail_if_cut(sent, len(data), None)
                self._release()
            raise

    def _queue_background(
        self, data: memoryview, end: float, on_error: WriteErrorCallback | None
    ) -> None:
        """Hand a whole frame to the drainer thread, starting it if none runs."""
        with self._state:
            self._backlog.append((data, end, on_error))
            if self._drainer is not None:
                return
            thread = self._drainer = threading.Thread(
                target=self._drain, name=self.thread_name, daemon=True
            )
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
        self,
        data: memoryview,
        sent: int,
        end: float,
        on_error: WriteErrorCallback | None,
        holding_lock: bool,
    ) -> None:
        try:
            if not holding_lock and not self._acquire_until(end):
                raise FrameWriteTimeout(
                    0, len(data), "another frame was still being written when the deadline passed"
                )
            progress = [sent]
            try:
                self._check_usable()
                self._pump(data, progress, end, wait=True)
            except _DeadlinePassed:
                self._fail_if_cut(progress[0], len(data), None)
                raise FrameWriteTimeout(
                    progress[0], len(data), _stalled(progress[0], len(data))
                ) from None
            except BaseException as exc:
                self._fail_if_cut(progress[0], len(data), exc)
                raise
            finally:
                self._release()
        except BaseException as exc:
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
