"""JSON-RPC 2.0 over one framed byte stream, with one reader thread.

The reader thread (``copilot-reader``) only parses and routes: a response completes its
pending request; a notification or a server-to-client request is handed to callbacks
that queue it for other threads. It never runs user code and never writes.

Messages are routed by ``method`` first (PROTOCOL §1.6): the CLI numbers its own
requests 1, 2, 3... and those ids overlap ours.

When the stream ends or cannot be read any more, the connection closes once: every
pending request, and every later one, fails at once with the close error.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from typing import Any, Callable

from ._errors import ConnectionLostError, CopilotTimeoutError, JsonRpcError, ProtocolError
from ._framing import FrameReader, FrameWriter, FramingError, TruncatedFrameError
from ._logging import redact
from ._timeouts import WAIT_SLICE, wait_interruptibly

__all__ = ["JsonRpcConnection", "METHOD_NOT_FOUND", "INTERNAL_ERROR", "wait_interruptibly"]

logger = logging.getLogger("copilot_sync.transport")

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_raw_decode = json.JSONDecoder().raw_decode


def _loads(body: bytes) -> Any:
    """``json.loads`` for a frame body, about twice as fast for the usual compact object:
    decode the UTF-8 first and let ``raw_decode`` skip ``loads``'s encoding sniffing and
    its regex pass over the end. Anything unusual falls back to ``json.loads``."""
    text = body.decode("utf-8")
    try:
        value, end = _raw_decode(text)
    except ValueError:
        return json.loads(text)  # leading whitespace, or invalid: loads raises the usual error
    if end != len(text) and text[end:].strip():
        raise ValueError(f"extra data after the JSON value (at position {end})")
    return value


class _Pending:
    """One request waiting for its response; the lock is released when it completes."""

    __slots__ = ("lock", "method", "result", "error")

    def __init__(self, method: str) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.method = method
        self.result: Any = None
        self.error: BaseException | None = None


class _CallbackPending:
    """A request sent by ``request_async``. It looks like :class:`_Pending` to the code
    that completes requests: that code sets ``result`` or ``error`` and then calls
    ``lock.release()``, which here calls the callback instead of waking a thread."""

    __slots__ = ("lock", "method", "result", "error")

    def __init__(self, method: str, callback: Callable[[Any, BaseException | None], None]) -> None:
        self.method = method
        self.result: Any = None
        self.error: BaseException | None = None
        self.lock = _CallOnRelease(self, callback)


class _CallOnRelease:
    __slots__ = ("_pending", "_callback")

    def __init__(self, pending: _CallbackPending, callback: Callable[[Any, BaseException | None], None]) -> None:
        self._pending = pending
        self._callback: Callable[[Any, BaseException | None], None] | None = callback

    def release(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        pending = self._pending
        try:
            callback(pending.result, None if pending.error is None else _fresh(pending.error))
        except Exception:  # the reader thread must survive a faulty callback
            logger.exception("callback for the answer to %s failed", pending.method)


RequestCallback = Callable[[Any, str, Any], None]
NotificationCallback = Callable[[str, Any], None]
CloseCallback = Callable[[ConnectionLostError], None]


class JsonRpcConnection:
    """A JSON-RPC peer over a ``FrameReader``/``FrameWriter`` pair."""

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
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_notification = on_notification
        self._on_request = on_request
        self._on_close = on_close
        self._describe_end = describe_end
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._closed: ConnectionLostError | None = None
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._read_loop, name=name, daemon=True)
        self.messages_read = 0
        self.messages_skipped = 0

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

    # ---------------------------------------------------------------- requests

    def request(self, method: str, params: Any = None, *, timeout: float | None = 60.0) -> Any:
        """Send a request and block until its response, raising its error if it failed."""
        closed = self._closed
        if closed is not None:
            raise _fresh(closed)
        request_id = next(self._ids)
        try:
            body = _dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": {} if params is None else params})
        except (TypeError, ValueError) as exc:  # nothing was sent
            raise TypeError(f"{method}: the params are not JSON-serialisable: {exc}") from None
        pending = _Pending(method)
        self._pending[request_id] = pending
        if self._closed is not None:  # closed between the check and the insert
            self._pending.pop(request_id, None)
            raise _fresh(self._closed)
        try:
            self._write(body.encode("utf-8"))
            completed = wait_interruptibly(pending.lock, timeout)
        except BaseException:
            self._pending.pop(request_id, None)
            raise
        if not completed:
            if self._pending.pop(request_id, None) is not None:
                raise CopilotTimeoutError(f"Timeout after {timeout}s waiting for the response to {method}")
            pending.lock.acquire()  # completed at the very moment the wait ended
        if pending.error is not None:
            raise _fresh(pending.error)
        return pending.result

    def request_async(
        self, method: str, params: Any, callback: Callable[[Any, BaseException | None], None]
    ) -> None:
        """Send a request without waiting for its response.

        ``callback(result, error)`` is called exactly once: with the result (``error`` is
        ``None``), or with the error (a :class:`JsonRpcError`, or the connection's close
        error). It runs on the reader thread, or on whichever thread closes the
        connection, so it must be quick and must neither block nor write. Raises at once
        (and never calls back) if the connection is already closed or the write fails
        before the connection noticed. There is no timeout: use your own timer.
        """
        closed = self._closed
        if closed is not None:
            raise _fresh(closed)
        request_id = next(self._ids)
        pending = _CallbackPending(method, callback)
        self._pending[request_id] = pending  # type: ignore[assignment]
        if self._closed is not None:  # closed between the check and the insert
            if self._pending.pop(request_id, None) is not None:
                raise _fresh(self._closed)
            return  # close() already called back
        body = _dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": {} if params is None else params})
        try:
            self._write(body.encode("utf-8"))
        except BaseException:
            if self._pending.pop(request_id, None) is not None:
                raise
            # the failed write closed the connection, and close() already called back

    def notify(self, method: str, params: Any = None) -> None:
        if self._closed is not None:
            raise _fresh(self._closed)
        body = _dumps({"jsonrpc": "2.0", "method": method, "params": {} if params is None else params})
        self._write(body.encode("utf-8"))

    def respond(self, request_id: Any, result: Any) -> None:
        """Answer a server-to-client request. A dead connection is logged, not raised."""
        try:
            body = _dumps({"jsonrpc": "2.0", "id": request_id, "result": result})
        except (TypeError, ValueError) as exc:
            logger.error("handler result for request %r is not JSON-serialisable: %s", request_id, exc)
            self.respond_error(request_id, INTERNAL_ERROR, f"handler result is not JSON-serialisable: {exc}")
            return
        self._write_quietly(body)

    def respond_error(self, request_id: Any, code: int, message: str, data: Any = None) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        self._write_quietly(_dumps({"jsonrpc": "2.0", "id": request_id, "error": error}))

    def _write_quietly(self, body: str) -> None:
        if self._closed is not None:
            logger.debug("connection closed; dropped a response")
            return
        try:
            self._write(body.encode("utf-8"))
        except ConnectionLostError as exc:
            logger.debug("could not send a response: %s", exc)

    def _write(self, data: bytes) -> None:
        try:
            self._writer.write_frame(data)
        except (OSError, ValueError) as exc:  # broken pipe, closed file or socket
            error = self._describe_end(exc)
            self.close(error)
            raise _fresh(self._closed or error) from exc

    # ---------------------------------------------------------------- reading

    def _read_loop(self) -> None:
        read_frame = self._reader.read_frame
        error: ConnectionLostError | None = None
        try:
            while True:
                body = read_frame()
                if body is None:
                    break
                self._route(body)
        except TruncatedFrameError as exc:  # the peer died mid-frame: an end of stream
            logger.warning("the connection ended inside a frame: %s", exc)
        except FramingError as exc:
            logger.error("unreadable data from the CLI: %s", exc)
            error = ProtocolError(f"the CLI sent data that cannot be read as a frame: {exc}")
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
            message = _loads(body)
        except ValueError as exc:  # invalid JSON or invalid UTF-8 (UnicodeDecodeError is a ValueError)
            self.messages_skipped += 1
            logger.warning("skipped a frame that is not valid JSON (%d bytes): %s", len(body), exc)
            return
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
            logger.warning("response to an unknown request id %.40r ignored", request_id)
            return
        if "error" in message:
            err = message["error"]
            if isinstance(err, dict):
                pending.error = JsonRpcError(
                    err.get("code", INTERNAL_ERROR) if isinstance(err.get("code"), int) else INTERNAL_ERROR,
                    redact(str(err.get("message", ""))),  # the peer may quote a token back
                    err.get("data"),
                    method=pending.method,
                )
            else:
                pending.error = JsonRpcError(INTERNAL_ERROR, redact(str(err)), method=pending.method)
        elif "result" in message:
            pending.result = message["result"]
        else:
            pending.error = JsonRpcError(INTERNAL_ERROR, "invalid JSON-RPC response: no result and no error", method=pending.method)
        pending.lock.release()

    # ---------------------------------------------------------------- closing

    def close(self, error: ConnectionLostError) -> None:
        """Close once: latch ``error``, tell the owner, fail every pending request."""
        with self._close_lock:
            if self._closed is not None:
                return
            self._closed = error
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


def _fresh(error: BaseException) -> BaseException:
    """A new exception of the same type and content, so each raiser gets its own traceback."""
    try:
        clone = type(error).__new__(type(error))
        clone.__dict__.update(error.__dict__)
        clone.args = error.args
        return clone
    except Exception:
        return error
