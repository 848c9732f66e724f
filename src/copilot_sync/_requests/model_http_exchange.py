"""``llmInference.httpRequestStart``/``httpRequestChunk``: the model HTTP exchanges of a
client built with ``request_handler=`` (see :mod:`._requests.model_http`).

The CLI announces a request with ``httpRequestStart`` (method, URL, headers) and sends its
body as ``httpRequestChunk`` frames, at least one, the last with ``end``; a chunk may
arrive before its start (each frame is answered on a worker, in any order), so an exchange
is created by whichever comes first. Both are answered ``{}`` at once. Once an exchange has
its head and its whole body, the handler runs on a worker of its own
(``submit``): no worker ever waits for another frame, so a full pool cannot deadlock.

The answer goes back as ``llmInference.httpResponseStart`` (status, headers), then
``llmInference.httpResponseChunk`` frames (UTF-8 text, or base64 with ``binary`` when a
piece is not valid UTF-8), the last one empty with ``end``. Each frame waits for the CLI's
acknowledgement (back-pressure); an ``accepted: false`` means the CLI no longer wants the
answer, and sending stops. A handler that raises, returns something else than a
``ModelHttpResponse`` or whose body fails mid-stream is logged (with the traceback) and the
CLI gets a terminal ``error`` chunk (after a 502 head if none was sent), which fails that
model call in the CLI. A ``cancel`` chunk from the CLI (or the client stopping) cancels the
request: the handler's ``on_cancel`` callbacks run (the default forwarding aborts its
connection) and nothing more is sent. WebSocket requests are refused: a 501 head, then an
``error`` chunk.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from .._errors import ConnectionLostError, CopilotTimeoutError, JsonRpcError
from .._fields import is_mapping
from .._logging import redact
from .._wire.connection import INTERNAL_ERROR
from .model_http import CopilotRequestHandler, ModelHttpRequest, ModelHttpResponse, cancel_request

if TYPE_CHECKING:
    from .._wire.connection import JsonRpcConnection

__all__ = [
    "CHUNK",
    "METHODS",
    "RESPONSE_CHUNK",
    "RESPONSE_START",
    "START",
    "ModelHttpExchanges",
    "answer",
]

START = "llmInference.httpRequestStart"
CHUNK = "llmInference.httpRequestChunk"
METHODS = frozenset({START, CHUNK})
RESPONSE_START = "llmInference.httpResponseStart"
RESPONSE_CHUNK = "llmInference.httpResponseChunk"
#: Seconds to wait for the CLI's acknowledgement of one response frame.
FRAME_TIMEOUT = 60.0
_INVALID_PARAMS = -32602
_ERROR_TEXT_LIMIT = 500
#: How many finished request ids are remembered, so that a late frame of one (a WebSocket's
#: next message, a cancel after the answer) does not start a new exchange.
_REMEMBERED = 1024

logger = logging.getLogger("copilot_sync.client")

Submit = Callable[..., bool]


class _Exchange:
    """One request of the CLI, from its first frame until its answer is sent."""

    __slots__ = ("body", "connection", "ended", "head", "request", "request_id", "scheduled")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.connection: JsonRpcConnection | None = None
        self.head: Mapping[str, Any] | None = None
        self.body: list[bytes] = []
        self.ended = False
        self.scheduled = False
        self.request: ModelHttpRequest | None = None


class _Dropped(Exception):
    """The CLI no longer takes this answer (cancelled, refused, or the connection is gone)."""


class ModelHttpExchanges:
    """The exchanges in flight for one client's ``request_handler`` (``handler``; ``None``
    when the client has none: then there never is any)."""

    def __init__(self, handler: CopilotRequestHandler | None) -> None:
        if handler is not None and not callable(getattr(handler, "send_request", None)):
            raise TypeError("request_handler must be a CopilotRequestHandler (with send_request)")
        self.handler = handler
        self._lock = threading.Lock()
        self._exchanges: dict[str, _Exchange] = {}
        self._finished: deque[str] = deque(maxlen=_REMEMBERED)
        self._finished_ids: set[str] = set()
        self._warned_websocket = False

    def __len__(self) -> int:
        return len(self._exchanges)

    # ---------------------------------------------------------------- frames (worker threads)

    def start(self, params: Any, connection: JsonRpcConnection, submit: Submit) -> dict[str, Any]:
        """``httpRequestStart``: record the head; run the handler if the body is complete."""
        if not is_mapping(params) or not all(
            isinstance(params.get(key), str) for key in ("requestId", "method", "url")
        ):
            raise JsonRpcError(_INVALID_PARAMS, "Invalid llmInference.httpRequestStart params")
        if not is_mapping(params.get("headers")):
            raise JsonRpcError(_INVALID_PARAMS, "Invalid llmInference.httpRequestStart headers")
        with self._lock:
            if self._is_finished(params["requestId"]):
                return {}  # cancelled before its head came
            exchange = self._exchange(params["requestId"])
            if exchange.head is not None:
                raise JsonRpcError(_INVALID_PARAMS, "llmInference.httpRequestStart sent twice")
            exchange.head = params
            exchange.connection = connection
            ready = self._ready(exchange)
        if ready:
            self._schedule(exchange, submit)
        return {}

    def chunk(self, params: Any, submit: Submit) -> dict[str, Any]:
        """``httpRequestChunk``: add to the body, or cancel; run the handler on the last one."""
        if not is_mapping(params) or not isinstance(params.get("requestId"), str):
            raise JsonRpcError(_INVALID_PARAMS, "Invalid llmInference.httpRequestChunk params")
        request_id: str = params["requestId"]
        if params.get("cancel") is True:
            self._cancel(request_id, params.get("cancelReason"))
            return {}
        data = params.get("data", "")
        if not isinstance(data, str):
            raise JsonRpcError(_INVALID_PARAMS, "Invalid llmInference.httpRequestChunk data")
        try:
            piece = base64.b64decode(data, validate=True) if params.get("binary") else data.encode()
        except (binascii.Error, ValueError):
            raise JsonRpcError(
                _INVALID_PARAMS, "Invalid base64 in llmInference.httpRequestChunk"
            ) from None
        with self._lock:
            if self._is_finished(request_id):
                return {}  # a late frame of a finished (or cancelled) exchange
            exchange = self._exchange(request_id)
            if exchange.ended or exchange.scheduled:
                return {}  # the body is complete (or a refused WebSocket's next message)
            if piece:
                exchange.body.append(piece)
            exchange.ended = params.get("end") is True
            ready = self._ready(exchange)
        if ready:
            self._schedule(exchange, submit)
        return {}

    def cancel_all(self, reason: str) -> None:
        """Cancel every exchange (the client is stopping, or its connection is gone)."""
        with self._lock:
            exchanges = list(self._exchanges.values())
            self._exchanges.clear()
        for exchange in exchanges:
            if exchange.request is not None:
                cancel_request(exchange.request, reason)

    def _exchange(self, request_id: str) -> _Exchange:
        exchange = self._exchanges.get(request_id)
        if exchange is None:
            exchange = self._exchanges[request_id] = _Exchange(request_id)
        return exchange

    def _ready(self, exchange: _Exchange) -> bool:
        """Under the lock: True (once) when the exchange has its head and its whole body."""
        head = exchange.head
        if head is None or exchange.scheduled:
            return False
        if not exchange.ended and head.get("transport") != "websocket":
            return False
        exchange.scheduled = True
        exchange.request = _request_of(head, b"".join(exchange.body))
        exchange.body = []
        return True

    def _schedule(self, exchange: _Exchange, submit: Submit) -> None:
        if not submit(self._run, exchange):
            self._forget(exchange)  # the client is stopping: nothing will answer

    def _is_finished(self, request_id: str) -> bool:
        return request_id in self._finished_ids and request_id not in self._exchanges

    def _remember(self, request_id: str) -> None:
        """Under the lock: ``request_id`` is done; its late frames are ignored."""
        if request_id not in self._finished_ids:
            if len(self._finished) == self._finished.maxlen:
                self._finished_ids.discard(self._finished[0])
            self._finished.append(request_id)
            self._finished_ids.add(request_id)

    def _cancel(self, request_id: str, reason: object) -> None:
        with self._lock:
            exchange = self._exchanges.pop(request_id, None)
            if exchange is not None:
                self._remember(request_id)
        if exchange is None:
            return
        text = reason if isinstance(reason, str) else None
        logger.debug("the CLI cancelled model request %s (%s)", request_id, text or "no reason")
        if exchange.request is not None:
            cancel_request(exchange.request, text)

    def _forget(self, exchange: _Exchange) -> None:
        with self._lock:
            if self._exchanges.get(exchange.request_id) is exchange:
                del self._exchanges[exchange.request_id]
            self._remember(exchange.request_id)

    # ---------------------------------------------------------------- the handler (a worker)

    def _run(self, exchange: _Exchange) -> None:
        request = exchange.request
        assert request is not None
        try:
            if request.cancelled:
                return
            if request.transport == "websocket":
                self._refuse_websocket(exchange, request)
                return
            response = self._call_handler(exchange, request)
            if response is None:
                return
            try:
                self._stream(exchange, request, response)
            finally:
                try:
                    response.close()
                except Exception:
                    logger.exception(
                        "closing the answer to model request %s failed", _describe(request)
                    )
        except _Dropped:
            logger.debug(
                "the CLI no longer takes the answer to model request %s", request.request_id
            )
        finally:
            self._forget(exchange)

    def _call_handler(
        self, exchange: _Exchange, request: ModelHttpRequest
    ) -> ModelHttpResponse | None:
        try:
            assert self.handler is not None  # no exchange starts without one
            response: object = self.handler.send_request(request)
        except BaseException as exc:  # SystemExit raised by hand too: the CLI still gets an answer
            if request.cancelled:
                logger.debug(
                    "request_handler stopped for cancelled model request %s: %r",
                    request.request_id,
                    exc,
                )
                return None
            logger.exception(
                "request_handler raised for model request %s; the CLI gets an error for it",
                _describe(request),
            )
            self._fail(
                exchange, f"request_handler failed: {_error_text(exc)}", "request_handler_error"
            )
            return None
        if not isinstance(response, ModelHttpResponse):
            logger.error(
                "request_handler must return a ModelHttpResponse, not %s (model request %s); "
                "the CLI gets an error for it",
                type(response).__name__,
                _describe(request),
            )
            close = getattr(response, "close", None)
            if callable(close):
                close()
            self._fail(
                exchange, "request_handler returned no ModelHttpResponse", "request_handler_error"
            )
            return None
        return response

    def _stream(
        self, exchange: _Exchange, request: ModelHttpRequest, response: ModelHttpResponse
    ) -> None:
        try:
            head = _head_of(exchange.request_id, response)
        except (TypeError, ValueError) as exc:
            logger.error(
                "request_handler returned an invalid answer for model request %s: %s",
                _describe(request),
                exc,
            )
            self._fail(
                exchange, f"invalid answer from request_handler: {exc}", "request_handler_error"
            )
            return
        self._send(exchange, RESPONSE_START, head)
        try:
            for piece in _pieces(response.body):
                if request.cancelled:
                    raise _Dropped
                if piece:
                    self._send(
                        exchange, RESPONSE_CHUNK, {"requestId": exchange.request_id, **_data(piece)}
                    )
        except _Dropped:
            raise
        except BaseException as exc:
            if request.cancelled:
                raise _Dropped from None
            logger.exception(
                "the answer body of model request %s failed mid-stream; the CLI gets an error",
                _describe(request),
            )
            self._send_error(
                exchange, f"the answer body failed: {_error_text(exc)}", "response_body_error"
            )
            return
        self._send(
            exchange, RESPONSE_CHUNK, {"requestId": exchange.request_id, "data": "", "end": True}
        )

    def _refuse_websocket(self, exchange: _Exchange, request: ModelHttpRequest) -> None:
        if not self._warned_websocket:
            self._warned_websocket = True
            logger.warning(
                "the CLI asked request_handler for a WebSocket connection (%s); only HTTP is "
                "supported, so that request fails",
                _describe(request),
            )
        self._fail(
            exchange,
            "request_handler supports only HTTP model requests, not WebSocket",
            "websocket_unsupported",
            status=501,
        )

    # ---------------------------------------------------------------- frames to the CLI

    def _fail(self, exchange: _Exchange, message: str, code: str, *, status: int = 502) -> None:
        """A head (``status``) and a terminal error chunk; nothing if the CLI dropped it."""
        try:
            self._send(
                exchange,
                RESPONSE_START,
                {"requestId": exchange.request_id, "status": status, "headers": {}},
            )
            self._send_error(exchange, message, code)
        except _Dropped:
            pass

    def _send_error(self, exchange: _Exchange, message: str, code: str) -> None:
        frame = {
            "requestId": exchange.request_id,
            "data": "",
            "end": True,
            "error": {"message": message, "code": code},
        }
        try:
            self._send(exchange, RESPONSE_CHUNK, frame)
        except _Dropped:
            pass

    def _send(self, exchange: _Exchange, method: str, params: dict[str, Any]) -> None:
        """One frame, acknowledged; :class:`_Dropped` when it cannot be, or was not taken."""
        connection = exchange.connection
        request = exchange.request
        if connection is None or (request is not None and request.cancelled):
            raise _Dropped
        try:
            result = connection.request(method, params, timeout=FRAME_TIMEOUT)
        except ConnectionLostError:
            raise _Dropped from None
        except (JsonRpcError, CopilotTimeoutError) as exc:
            logger.warning(
                "the CLI did not take %s for model request %s: %s", method, exchange.request_id, exc
            )
            if request is not None:
                cancel_request(request, f"{method} failed")
            raise _Dropped from None
        if is_mapping(result) and result.get("accepted") is False:
            if request is not None:
                cancel_request(request, "the CLI no longer expects this answer")
            raise _Dropped


def answer(
    exchanges: ModelHttpExchanges,
    method: str,
    params: Any,
    connection: JsonRpcConnection,
    submit: Submit,
) -> dict[str, Any]:
    """The answer to one ``llmInference.httpRequestStart``/``httpRequestChunk`` (worker thread)."""
    if exchanges.handler is None:
        raise JsonRpcError(INTERNAL_ERROR, "no request_handler is registered on this client")
    if method == START:
        return exchanges.start(params, connection, submit)
    return exchanges.chunk(params, submit)


# -------------------------------------------------------------------- helpers


def _request_of(head: Mapping[str, Any], body: bytes) -> ModelHttpRequest:
    headers: dict[str, list[str]] = {}
    for name, values in cast("Mapping[object, object]", head["headers"]).items():
        if not isinstance(name, str):
            continue
        if isinstance(values, str):
            headers[name.lower()] = [values]
        elif isinstance(values, list):
            items = cast("list[object]", values)
            headers[name.lower()] = [value for value in items if isinstance(value, str)]

    def text(key: str) -> str | None:
        value = head.get(key)
        return value if isinstance(value, str) else None

    return ModelHttpRequest(
        head["method"],
        head["url"],
        headers,
        body,
        request_id=head["requestId"],
        session_id=text("sessionId"),
        agent_id=text("agentId"),
        parent_agent_id=text("parentAgentId"),
        agent_invocation_id=text("agentInvocationId"),
        interaction_type=text("interactionType"),
        transport=text("transport") or "http",
    )


def _head_of(request_id: str, response: ModelHttpResponse) -> dict[str, Any]:
    status: object = response.status
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status must be an int from 100 to 599, not {status!r:.40}")
    headers: dict[str, list[str]] = {}
    given: object = response.headers
    if not is_mapping(given):
        raise TypeError(f"headers must be a mapping, not {type(given).__name__}")
    for name, value in given.items():
        if not isinstance(name, str) or not name:
            raise TypeError("header names must be non-empty str")
        values: list[object] = (
            cast("list[object]", value) if isinstance(value, (list, tuple)) else [value]
        )
        if not all(isinstance(item, str) for item in values):
            raise TypeError(f"header {name!r:.60} must be a str or a list of str")
        headers.setdefault(name.lower(), []).extend(cast("list[str]", values))
    head: dict[str, Any] = {"requestId": request_id, "status": status, "headers": headers}
    reason: object = response.reason
    if isinstance(reason, str) and reason:
        head["statusText"] = reason
    return head


def _pieces(body: object) -> Iterator[bytes]:
    if isinstance(body, (bytes, bytearray)):
        yield bytes(body)
        return
    if isinstance(body, str):
        yield body.encode()
        return
    if not isinstance(body, Iterable):
        raise TypeError(
            f"a ModelHttpResponse body must be bytes, str or an iterable of them, not {type(body).__name__}"
        )
    for piece in cast("Iterable[object]", body):
        if isinstance(piece, str):
            yield piece.encode()
        elif isinstance(piece, (bytes, bytearray)):
            yield bytes(piece)
        else:
            raise TypeError(
                f"a ModelHttpResponse body yielded {type(piece).__name__}, not bytes or str"
            )


def _data(piece: bytes) -> dict[str, Any]:
    """A body piece as the wire carries it: text when it is UTF-8, else base64 (``binary``)."""
    try:
        return {"data": piece.decode("utf-8")}
    except UnicodeDecodeError:
        return {"data": base64.b64encode(piece).decode("ascii"), "binary": True}


def _describe(request: ModelHttpRequest) -> str:
    """``POST https://host/path`` (no query: it may carry a key)."""
    return redact(f"{request.method} {request.url.split('?', 1)[0]}")[:200]


def _error_text(exc: BaseException) -> str:
    text = redact(str(exc))
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:_ERROR_TEXT_LIMIT]
