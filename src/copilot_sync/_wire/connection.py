"""JSON-RPC 2.0 over one framed byte stream, with one reader thread.

The reader thread (``copilot-reader``) only parses and routes: a response completes its
pending request; a notification or a server-to-client request is handed to callbacks
that queue it for other threads. It never runs user code and never writes.

Messages are routed by ``method`` first (docs/ARCHITECTURE.md): the CLI numbers its own
requests 1, 2, 3... and those ids overlap ours.

When the stream ends or cannot be read any more, the connection closes once: every
pending request, and every later one, fails at once with the close error, and every
thread still writing is released (the writer refuses frames from then on).

The documented outcomes
-----------------------

Reading (see also :mod:`copilot_sync._wire.framing`):

* a frame that is not JSON, not an object, or not a JSON-RPC message: skipped and logged;
  the connection goes on (the frame boundaries are intact);
* unreadable framing, or a frame above ``max_frame_bytes`` (256 MiB unless configured):
  the connection closes with :class:`ProtocolError` (naming the size and the limit);
* a message nested too deeply to parse (deeper than the interpreter's recursion limit,
  about 1,000 levels): the connection closes with :class:`ProtocolError` ("nested too
  deeply"). It is not skipped: it might be the response someone waits for.

Writing (every outgoing message: requests, notifications, responses):

* a lone surrogate in a string (``'\\udcff'``, what ``os.listdir`` gives for a file name
  that is not UTF-8) has no UTF-8 form, and the CLI rejects even its JSON escape
  (``\\udcff``: a -32700 parse error without an id, so the request would never be
  answered). It is sent as U+FFFD (the replacement character) and a WARNING is logged; a
  surrogate *pair* is sent as the character it encodes;
* a value JSON cannot carry (NaN or Infinity, which the CLI cannot parse; a circular
  reference; an object JSON does not know; nesting too deep): a *request* or notification
  raises ``TypeError`` naming the method, before anything is sent or left pending; a
  *response* becomes a JSON-RPC error response (-32603, naming the problem), so the CLI's
  request is still answered;
* a peer that stops reading: :meth:`JsonRpcConnection.request` spends one deadline on the
  write and the wait for the answer. If the deadline passes before any byte of the request
  was written, :class:`CopilotTimeoutError` (nothing was sent; the connection goes on). If
  it passes in the middle of the frame, the stream is cut: the connection closes with
  :class:`ProtocolError` ("stopped reading"), every waiter receives it, and the caller gets
  :class:`CopilotTimeoutError`;
* writes that have no caller to give them a deadline (responses from worker threads,
  notifications, the background part of :meth:`JsonRpcConnection.request_async`) are
  bounded by :data:`BACKGROUND_WRITE_TIMEOUT` (30 s) with the same outcomes; a response
  that cannot be sent is logged (ERROR; DEBUG when the connection had already ended).
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import (
    ConnectionLostError,
    CopilotTimeoutError,
    JsonRpcError,
    ProtocolError,
)
from .._errors import FrameTooLargeError as FrameTooLargeProtocolError
from .._logging import redact
from .framing import (
    BACKGROUND_WRITE_TIMEOUT,
    FrameReader,
    FrameTooLargeError,
    FrameWriteTimeout,
    FramingError,
    TruncatedFrameError,
)
from .messages import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    CallbackPending,
    NestedTooDeeply,
    Pending,
    Unsendable,
    encode,
    fresh,
    loads,
    stopped_reading,
    write_timeout_error,
)
from .timeouts import Deadline, wait_interruptibly
from .writer import FrameWriter

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = [
    "BACKGROUND_WRITE_TIMEOUT",
    "INTERNAL_ERROR",
    "METHOD_NOT_FOUND",
    "JsonRpcConnection",
    "is_unhandled",
    "wait_interruptibly",
]

logger = logging.getLogger("copilot_sync.transport")

RequestCallback = Callable[[Any, str, Any], None]
NotificationCallback = Callable[[str, Any], None]
CloseCallback = Callable[[ConnectionLostError], None]


def is_unhandled(error: JsonRpcError) -> bool:
    """Whether the peer answered that it has no such method: ``-32601``, or the CLI's own
    ``Unhandled method <name>`` (its older answer to an unknown method)."""
    return error.code == METHOD_NOT_FOUND or "Unhandled method" in error.message


def _is_object(value: object) -> TypeIs[dict[str, Any]]:
    """``isinstance(value, dict)``, read as a JSON object."""
    return isinstance(value, dict)


class JsonRpcConnection:
    """A JSON-RPC peer over a ``FrameReader``/``FrameWriter`` pair.

    ``background_write_timeout`` bounds the writes no caller gives a deadline to (responses,
    notifications, the background part of :meth:`request_async`); see the module docstring.
    """

    def __init__(
        self,
        reader: FrameReader,
        writer: FrameWriter,
        *,
        on_notification: NotificationCallback,
        on_request: RequestCallback,
        on_close: CloseCallback,
        describe_end: Callable[[BaseException | None], ConnectionLostError],
        name: str = "copilot-reader",
        background_write_timeout: float = BACKGROUND_WRITE_TIMEOUT,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_notification = on_notification
        self._on_request = on_request
        self._on_close = on_close
        self._describe_end = describe_end
        self._ids = itertools.count(1)
        self._pending: dict[int, Pending] = {}
        self._closed: ConnectionLostError | None = None
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._read_loop, name=name, daemon=True)
        self._background_write_timeout = background_write_timeout
        writer.background_timeout = background_write_timeout
        writer.thread_name = (
            name.replace("reader", "writer") if "reader" in name else f"{name}-writer"
        )
        self.messages_read: int = 0
        self.messages_skipped: int = 0

    def start(self) -> None:
        self._thread.start()

    @property
    def reader_thread(self) -> threading.Thread:
        return self._thread

    @property
    def closed_error(self) -> ConnectionLostError | None:
        return self._closed

    @property
    def is_closed(self) -> bool:
        return self._closed is not None

    @property
    def max_frame_bytes(self) -> int:
        """The largest frame the peer may send; a larger one closes the connection."""
        return self._reader.max_frame_bytes

    @property
    def pending_count(self) -> int:
        """Requests sent (or being sent) and not answered yet."""
        return len(self._pending)

    # ---------------------------------------------------------------- requests

    def request(self, method: str, params: Any = None, *, timeout: float | None = 60.0) -> Any:
        """Send a request and block until its response, raising its error if it failed.

        ``timeout`` covers the whole call: waiting to write, writing, and waiting for the
        answer (a peer that stops reading cannot hold it longer). See the module docstring
        for what a write that runs out of time does to the connection.
        """
        deadline = Deadline(timeout)
        closed = self._closed
        if closed is not None:
            raise fresh(closed)
        request_id = next(self._ids)
        data = self._encode_request(request_id, method, params)  # raises before anything is pending
        pending = Pending(method)
        self._pending[request_id] = pending
        if self._closed is not None:  # closed between the check and the insert
            self._pending.pop(request_id, None)
            raise fresh(self._closed)
        try:
            self._write(data, deadline.remaining(), method)
        except FrameWriteTimeout as exc:
            self._pending.pop(request_id, None)
            raise write_timeout_error(exc, method, timeout) from None
        except BaseException:
            self._pending.pop(request_id, None)
            raise
        try:
            completed = wait_interruptibly(pending.lock, deadline.remaining())
        except BaseException:
            self._pending.pop(request_id, None)
            raise
        if not completed:
            if self._pending.pop(request_id, None) is not None:
                raise CopilotTimeoutError(
                    f"Timeout after {timeout}s waiting for the response to {method}"
                )
            pending.lock.acquire()  # completed at the very moment the wait ended
        if pending.error is not None:
            raise fresh(pending.error)
        return pending.result

    def request_async(
        self,
        method: str,
        params: Any,
        callback: Callable[[Any, BaseException | None], None],
        *,
        write_timeout: float | None = None,
    ) -> None:
        """Send a request without waiting for its response, and without ever blocking.

        ``callback(result, error)`` is called exactly once: with the result (``error`` is
        ``None``), or with the error (a :class:`JsonRpcError`, the connection's close error,
        or :class:`CopilotTimeoutError` when nothing of the request could be written within
        the write bound). It runs on the reader
        thread, on whichever thread closes the connection, or on the background writer
        thread, so it must be quick and must neither block nor write.

        The frame is written at once when the writer is free and the pipe or socket has room
        for it; otherwise (another thread is writing, or the peer reads slowly) what is left
        is written by a background thread (``copilot-writer``), bounded by ``write_timeout``
        seconds (``None``: the connection's ``background_write_timeout``, 30 s by default;
        give a blocking caller's remaining deadline here so that its deadline also bounds
        the write). Raises at once (and never calls back) if the connection
        is already closed, if ``params`` cannot be sent as JSON (``TypeError``), or if the
        write fails before the connection noticed. There is no timeout for the answer: use
        your own timer.
        """
        closed = self._closed
        if closed is not None:
            raise fresh(closed)
        request_id = next(self._ids)
        data = self._encode_request(request_id, method, params)  # raises before anything is pending
        pending = CallbackPending(method, callback)
        self._pending[request_id] = pending  # type: ignore[assignment]
        if self._closed is not None:  # closed between the check and the insert
            if self._pending.pop(request_id, None) is not None:
                raise fresh(self._closed)
            return  # close() already called back
        bound = self._background_write_timeout if write_timeout is None else write_timeout
        try:
            self._writer.write_frame_nowait(
                data,
                functools.partial(self._async_write_failed, request_id, method, bound),
                timeout=bound,
            )
        except (OSError, ValueError) as exc:
            lost = self._lost(exc)  # closing calls back every pending request, this one included
            if self._pending.pop(request_id, None) is not None:
                raise lost from exc
        except BaseException:
            if self._pending.pop(request_id, None) is not None:
                raise
            # the connection closed meanwhile, and close() already called back

    def notify(
        self, method: str, params: Any = None, *, timeout: float | None = BACKGROUND_WRITE_TIMEOUT
    ) -> None:
        """Send a notification within ``timeout``; ``CopilotTimeoutError`` if it could not be
        sent, ``TypeError`` if ``params`` cannot be sent as JSON."""
        if self._closed is not None:
            raise fresh(self._closed)
        try:
            data = encode(
                {"jsonrpc": "2.0", "method": method, "params": {} if params is None else params},
                method,
            )
        except Unsendable as exc:
            raise TypeError(f"{method}: the params cannot be sent as JSON: {exc}") from None
        try:
            self._write(data, timeout, method)
        except FrameWriteTimeout as exc:
            raise write_timeout_error(exc, method, timeout) from None

    def respond(self, request_id: Any, result: Any) -> None:
        """Answer a server-to-client request; never raises, and every failure is logged.

        A result JSON cannot carry is answered with a -32603 error response instead, so the
        CLI is never left waiting. A dead connection is logged at DEBUG (routine after a
        stop or a crash); any other failure at ERROR.
        """
        what = f"the answer to request {request_id!r}"
        try:
            data = encode({"jsonrpc": "2.0", "id": request_id, "result": result}, what)
        except Unsendable as exc:
            logger.error(
                "%s cannot be sent as JSON (%s); answering with an error instead", what, exc
            )
            self.respond_error(
                request_id, INTERNAL_ERROR, f"the handler's result cannot be sent as JSON: {exc}"
            )
            return
        self._send_response(data, request_id)

    def respond_error(self, request_id: Any, code: int, message: str, data: Any = None) -> None:
        """Answer a server-to-client request with an error; never raises (failures are
        logged). ``data`` JSON cannot carry is dropped (logged); the error still goes out."""
        what = f"the error answer to request {request_id!r}"
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        try:
            payload = encode({"jsonrpc": "2.0", "id": request_id, "error": error}, what)
        except Unsendable as exc:
            logger.error("%s cannot be sent as JSON (%s); sending it without its data", what, exc)
            plain = {
                "code": code if type(code) is int else INTERNAL_ERROR,
                "message": message if isinstance(message, str) else repr(message),
            }
            try:
                payload = encode({"jsonrpc": "2.0", "id": request_id, "error": plain}, what)
            except Unsendable as again:  # only the id is left to blame; it came from the peer
                logger.error("%s cannot be sent at all: %s", what, again)
                return
        self._send_response(payload, request_id)

    def _send_response(self, data: bytes, request_id: Any) -> None:
        if self._closed is not None:
            logger.debug("connection closed; dropped the answer to request %r", request_id)
            return
        try:
            self._write(
                data, self._background_write_timeout, f"the answer to request {request_id!r}"
            )
        except FrameWriteTimeout as exc:
            logger.error(
                "could not send the answer to request %r within %gs: %s%s",
                request_id,
                self._background_write_timeout,
                exc,
                "; the connection is closed" if exc.cut else " (nothing was sent)",
            )
        except ConnectionLostError as exc:
            logger.debug("could not send the answer to request %r: %s", request_id, exc)
        except Exception:
            logger.exception("could not send the answer to request %r", request_id)

    def _encode_request(self, request_id: int, method: str, params: Any) -> bytes:
        message: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": method,
            "params": {} if params is None else params,
        }
        try:
            return encode(message, method)
        except Unsendable as exc:  # nothing was sent
            raise TypeError(f"{method}: the params cannot be sent as JSON: {exc}") from None

    def _write(self, data: bytes, timeout: float | None, what: str) -> None:
        """Write one frame within ``timeout``. A frame cut short closes the connection;
        a dead stream closes it too and raises its close error."""
        try:
            self._writer.write_frame(
                data,
                timeout,
                on_background_error=functools.partial(self._background_write_failed, what),
            )
        except FrameWriteTimeout as exc:
            if exc.cut:
                self.close(stopped_reading(exc, what))
            raise
        except (OSError, ValueError) as exc:  # broken pipe, closed file or socket, closed writer
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException) -> BaseException:
        """Close the connection after ``exc`` (unless it is closed already); its close error."""
        if self._closed is None:
            self.close(self._describe_end(exc))
        assert self._closed is not None
        return fresh(self._closed)

    def _background_write_failed(self, what: str, exc: BaseException) -> None:
        """The rest of a frame interrupted by Ctrl-C could not be written (writer thread)."""
        if isinstance(exc, FrameWriteTimeout):
            if exc.cut:
                self.close(stopped_reading(exc, what))
        elif isinstance(exc, (OSError, ValueError)):
            self._lost(exc)
        else:
            logger.error("writing %s failed: %r", what, exc)

    def _async_write_failed(
        self, request_id: int, method: str, bound: float, exc: BaseException
    ) -> None:
        """The background write of a ``request_async`` request failed (writer thread)."""
        if isinstance(exc, FrameWriteTimeout) and exc.cut:
            self.close(stopped_reading(exc, method))  # calls back every pending request
            return
        if isinstance(exc, (OSError, ValueError)):
            self._lost(exc)
            return
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        if isinstance(exc, FrameWriteTimeout):
            logger.warning("%s could not be sent within %gs: %s", method, bound, exc)
            pending.error = write_timeout_error(exc, method, bound)
        else:
            logger.error("sending %s failed: %r", method, exc)
            pending.error = exc
        pending.lock.release()

    # ---------------------------------------------------------------- reading

    def _read_loop(self) -> None:
        read_frame = self._reader.read_frame
        error: ConnectionLostError | None = None
        try:
            with self._reader.reading():  # the stream is closed here, never under this thread
                while True:
                    body = read_frame()
                    if body is None:
                        break
                    self._route(body)
        except TruncatedFrameError as exc:  # the peer died mid-frame: an end of stream
            logger.warning("the connection ended inside a frame: %s", exc)
        except FrameTooLargeError as exc:
            logger.error("the CLI sent a frame too large to read: %s", exc)
            error = FrameTooLargeProtocolError(
                f"the CLI sent data that cannot be read as a frame: {exc}",
                size=exc.size,
                limit=exc.limit,
            )
        except FramingError as exc:
            logger.error("unreadable data from the CLI: %s", exc)
            error = ProtocolError(f"the CLI sent data that cannot be read as a frame: {exc}")
        except NestedTooDeeply as exc:
            logger.error("unreadable message from the CLI: %s", exc)
            error = ProtocolError(f"the CLI sent a message nested too deeply to parse ({exc})")
        except (OSError, ValueError) as exc:  # the stream was closed under us
            if self._closed is None:
                error = self._describe_end(exc)
        except BaseException as exc:  # never die silently
            logger.exception("reader thread failed")
            error = ProtocolError(f"reader thread failed: {exc!r}")
        if self._closed is not None:  # closed on purpose (stop): nothing left to describe
            return
        self.close(error if error is not None else self._describe_end(None))

    def _route(self, body: bytes) -> None:
        try:
            message: dict[str, Any] | list[Any] | str | float | bool | None = loads(body)
        except (
            ValueError
        ) as exc:  # invalid JSON or invalid UTF-8 (UnicodeDecodeError is a ValueError)
            self.messages_skipped += 1
            logger.warning("skipped a frame that is not valid JSON (%d bytes): %s", len(body), exc)
            return
        except RecursionError:
            # Not skipped: it may be the response someone waits for, who would then wait in vain.
            raise NestedTooDeeply(
                f"a {len(body):,}-byte frame is nested deeper than the JSON parser can go"
            ) from None
        if type(message) is not dict:
            self.messages_skipped += 1
            logger.warning("skipped a frame that is not a JSON object: %.80r", message)
            return
        self.messages_read += 1
        method = message.get("method")
        if method is not None:
            if type(method) is not str:
                self.messages_skipped += 1
                logger.warning("skipped a message whose method is not a string: %.80r", method)
                return
            if "id" in message:
                self._on_request(message["id"], method, message.get("params"))
            else:
                self._on_notification(method, message.get("params"))
            return
        if "id" in message:
            self._complete(message)
            return
        self.messages_skipped += 1
        logger.warning("skipped a message with neither method nor id: %.120r", message)

    def _complete(self, message: dict[str, Any]) -> None:
        request_id = message["id"]
        try:
            pending = self._pending.pop(request_id, None)
        except TypeError:  # an unhashable id
            pending = None
        if pending is None:
            err = message.get("error")
            if request_id is None and _is_object(err):
                # JSON-RPC's answer to a message the peer could not even parse (-32700) or
                # read as a request (-32600): no id, so no waiter can be told; say it loudly.
                logger.error(
                    "the CLI could not read a message from this SDK (JSON-RPC error %s: %s); the request it "
                    "belonged to will not be answered",
                    err.get("code"),
                    redact(str(err.get("message", "")))[:300],
                )
                return
            logger.warning("response to an unknown request id %.40r ignored", request_id)
            return
        if "error" in message:
            err = message["error"]
            if _is_object(err):
                pending.error = JsonRpcError(
                    err.get("code", INTERNAL_ERROR)
                    if isinstance(err.get("code"), int)
                    else INTERNAL_ERROR,
                    redact(str(err.get("message", ""))),  # the peer may quote a token back
                    err.get("data"),
                    method=pending.method,
                )
            else:
                pending.error = JsonRpcError(
                    INTERNAL_ERROR, redact(str(err)), method=pending.method
                )
        elif "result" in message:
            pending.result = message["result"]
        else:
            pending.error = JsonRpcError(
                INTERNAL_ERROR,
                "invalid JSON-RPC response: no result and no error",
                method=pending.method,
            )
        pending.lock.release()

    # ---------------------------------------------------------------- closing

    def close(self, error: ConnectionLostError) -> None:
        """Close once: latch ``error``, release every writer, tell the owner, fail every
        pending request. Never blocks on the peer."""
        with self._close_lock:
            if self._closed is not None:
                return
            self._closed = error
        # A thread blocked writing to a peer that does not read stops within one wait slice.
        # The pipe or socket itself stays open: closing it is the transport's business.
        self._writer.refuse(f"the connection is closed: {error}")
        # The owner first (it records the new state and fails its own waiters), so that a
        # caller woken below already sees the client in its final state.
        try:
            self._on_close(error)
        except Exception:
            logger.exception("error while handling the connection's end")
        for request_id in list(self._pending):
            pending = self._pending.pop(request_id, None)
            if pending is not None:
                pending.error = error
                pending.lock.release()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
