"""The client's ``request_handler``: the model HTTP requests of the CLI, performed (or
answered) by this process.

A client built with ``request_handler=`` registers itself with ``llmInference.setProvider``
right after the handshake. From then on the CLI does not call the model's API itself: each
request it would send (to GitHub Copilot's API or to a BYOK ``provider``) comes to the client
as ``llmInference.httpRequestStart`` (method, URL, headers) followed by
``llmInference.httpRequestChunk`` frames (the body). Once the body is complete the SDK calls
:meth:`CopilotRequestHandler.send_request` on a worker thread with a
:class:`ModelHttpRequest`, and streams the :class:`ModelHttpResponse` back to the CLI
(``llmInference.httpResponseStart``, then ``llmInference.httpResponseChunk`` frames).
The exchange itself lives in :mod:`._requests.model_http_exchange`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import CopilotError, JsonRpcError
from .._fields import is_mapping
from .._wire.connection import is_unhandled
from .._wire.timeouts import check_timeout

if TYPE_CHECKING:
    import ssl

    from .._wire.connection import JsonRpcConnection

__all__ = [
    "DEFAULT_TIMEOUT",
    "SET_PROVIDER",
    "CopilotRequestHandler",
    "ModelHttpRequest",
    "ModelHttpResponse",
    "cancel_request",
    "register",
]

SET_PROVIDER = "llmInference.setProvider"
#: Seconds the default :meth:`CopilotRequestHandler.send_request` waits to connect and for
#: each read of the answer (a reasoning model may think for minutes before its first byte).
DEFAULT_TIMEOUT = 600.0

logger = logging.getLogger("copilot_sync.client")


class _CancelSignal:
    """The cancellation of one request: an event, plus callbacks run once when it is set."""

    __slots__ = ("_callbacks", "_lock", "event", "reason")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self.event.is_set():
                self._callbacks.append(callback)
                return
        _run_callback(callback)

    def cancel(self, reason: str | None) -> None:
        with self._lock:
            if self.event.is_set():
                return
            self.reason = reason
            self.event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _run_callback(callback)


def _run_callback(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        logger.exception("a model request's cancel callback raised")


class ModelHttpRequest:
    """One model HTTP request of the CLI, with its whole body.

    A handler may change it in place before forwarding it (``set_header``, a new ``url``,
    a new ``body``). Header names are lowercase; each maps to its list of values.

    Attributes:
        method: The HTTP method (``"POST"``, ``"GET"``...).
        url: The absolute URL the CLI would have called.
        headers: Lowercase header name to its values (``{"authorization": ["Bearer ..."]}``).
            The CLI's credentials are in here: never log them.
        body: The request body (for the model APIs, UTF-8 JSON; see :meth:`json`).
        request_id: The CLI's id of this request.
        session_id: The session whose turn made the request; ``None`` for requests outside
            any session.
        agent_id: The agent trajectory that made it, when the CLI says.
        parent_agent_id: The parent trajectory (a subagent's request), when there is one.
        agent_invocation_id: The agent invocation (one agentic loop, retries included).
        interaction_type: The CLI's classification, e.g. ``"conversation-user"``,
            ``"conversation-agent"``, ``"conversation-subagent"``.
        transport: ``"http"`` (plain HTTP and server-sent events). The SDK only hands
            HTTP requests to a handler.
    """

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, Iterable[str]] | None = None,
        body: bytes = b"",
        *,
        request_id: str = "",
        session_id: str | None = None,
        agent_id: str | None = None,
        parent_agent_id: str | None = None,
        agent_invocation_id: str | None = None,
        interaction_type: str | None = None,
        transport: str = "http",
    ) -> None:
        self.method: str = method
        self.url: str = url
        self.headers: dict[str, list[str]] = {
            name.lower(): list(values) for name, values in (headers or {}).items()
        }
        self.body: bytes = body
        self.request_id: str = request_id
        self.session_id: str | None = session_id
        self.agent_id: str | None = agent_id
        self.parent_agent_id: str | None = parent_agent_id
        self.agent_invocation_id: str | None = agent_invocation_id
        self.interaction_type: str | None = interaction_type
        self.transport: str = transport
        self._cancel = _CancelSignal()

    def __repr__(self) -> str:  # never the headers (credentials) nor the body (the prompt)
        return f"<ModelHttpRequest {self.method} {self.url.split('?', 1)[0]!s:.200} id={self.request_id}>"

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or ``None``."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def set_header(self, name: str, value: str) -> None:
        """Set header ``name`` to this one value (replacing the ones it had)."""
        self.headers[name.lower()] = [value]

    def remove_header(self, name: str) -> None:
        """Remove header ``name`` (any case), if present."""
        self.headers.pop(name.lower(), None)

    def json(self) -> Any:
        """The body parsed as JSON (``json.JSONDecodeError`` if it is not)."""
        return json.loads(self.body)

    @property
    def cancelled(self) -> bool:
        """True once the CLI cancelled the request (or the client stopped): its answer is
        no longer wanted, and whatever is sent after this is dropped."""
        return self._cancel.event.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block until the request is cancelled or ``timeout`` seconds passed; True if cancelled."""
        return self._cancel.event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once when the request is cancelled (at once if it already is),
        on the thread that learns it: it must be quick and must not block (close a socket,
        set a flag). The default forwarding uses this to abort its connection."""
        self._cancel.add(callback)


def cancel_request(request: ModelHttpRequest, reason: str | None) -> None:
    """Mark ``request`` cancelled (the CLI dropped it, or the client stopped): its
    ``on_cancel`` callbacks run now, on this thread."""
    request._cancel.cancel(reason)


def _no_headers() -> dict[str, str | list[str]]:
    return {}


@dataclass
class ModelHttpResponse:
    """The answer to one :class:`ModelHttpRequest`, as the CLI will see it.

    ``body`` is sent all at once (``bytes``, or ``str`` as UTF-8) or piece by piece when it
    is an iterable (a generator streams: each piece reaches the CLI as soon as it is
    yielded). ``headers`` maps a header name to its value or its list of values.
    :meth:`close` is called once the answer was sent, or abandoned (it closes ``body``
    when that has a ``close()``, e.g. a generator: its ``finally`` blocks run).
    """

    status: int
    headers: Mapping[str, str | list[str]] = field(default_factory=_no_headers)
    body: bytes | str | Iterable[bytes | str] = b""
    reason: str = ""

    @classmethod
    def json_response(cls, value: Any, *, status: int = 200) -> ModelHttpResponse:
        """A JSON answer (``content-type: application/json``)."""
        return cls(
            status=status,
            headers={"content-type": "application/json"},
            body=json.dumps(value).encode("utf-8"),
        )

    @classmethod
    def event_stream(cls, events: Iterable[Any], *, status: int = 200) -> ModelHttpResponse:
        """A server-sent-events answer (``content-type: text/event-stream``), streamed as
        ``events`` yields: each item is sent as one ``data:`` event, a ``str`` as it is and
        anything else as JSON (an OpenAI-style stream ends with the item ``"[DONE]"``)."""

        def lines() -> Iterator[bytes]:
            for event in events:
                data = event if isinstance(event, str) else json.dumps(event)
                yield f"data: {data}\n\n".encode()

        return cls(
            status=status,
            headers={"content-type": "text/event-stream", "cache-control": "no-cache"},
            body=lines(),
        )

    def close(self) -> None:
        """Release what the body holds (a connection, a generator); called by the SDK."""
        close = getattr(self.body, "close", None)
        if callable(close):
            close()


class CopilotRequestHandler:
    """Performs the model HTTP requests of the CLI: the ``request_handler`` of a
    :class:`~copilot_sync.CopilotClient`.

    As it is, it forwards each request to its URL with the standard library and streams the
    answer back as it arrives: the CLI works as before, but its model traffic passes
    through this process. Subclass it and override :meth:`send_request` to look at a
    request, change it (a header, the URL) before calling ``super().send_request()``,
    change the answer, or answer by itself without any network (an in-process model)::

        class Tagged(CopilotRequestHandler):
            def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
                request.set_header("x-team", "search")
                return super().send_request(request)


        client = CopilotClient(request_handler=Tagged())

    :meth:`send_request` runs on the client's worker pool, one call per request, several at
    once (so it must be thread-safe), and holds its worker until the answer was streamed.
    If it raises, the error is logged with its traceback and the CLI gets a failed request
    (the turn then fails with a :class:`~copilot_sync.SessionError` once the CLI gives up).
    Only HTTP is supported: a WebSocket request of the CLI is refused.

    Args:
        timeout: Seconds the default forwarding waits to connect and for each read of the
            answer (an idle limit, not a limit on a whole stream); ``None`` waits forever.
        ssl_context: The TLS context for ``https`` URLs; by default the system's
            certificates, plus those of ``NODE_EXTRA_CA_CERTS`` (like the CLI).
    """

    timeout: float | None = DEFAULT_TIMEOUT
    ssl_context: ssl.SSLContext | None = None

    def __init__(
        self, *, timeout: float | None = DEFAULT_TIMEOUT, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.timeout = check_timeout(timeout)
        self.ssl_context = ssl_context

    def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
        """Perform ``request`` and return its answer (worker thread).

        The default sends it to ``request.url`` with :mod:`http.client` (the environment's
        ``https_proxy``/``no_proxy`` apply; redirects are not followed) and returns the
        answer once its head arrived, its body still streaming (an iterator: reading it reads
        the network). A cancellation by the CLI aborts the connection.
        """
        from .._model_http_forward import forward  # http.client, ssl: loaded when first used

        forwarded = forward(
            request.method,
            request.url,
            request.headers,
            request.body,
            timeout=self.timeout,
            ssl_context=self.ssl_context,
            on_abort=request.on_cancel,
        )
        return ModelHttpResponse(
            status=forwarded.status,
            headers=dict(forwarded.headers),
            body=forwarded.chunks,
            reason=forwarded.reason,
        )


def register(connection: JsonRpcConnection, timeout: float) -> bool:
    """Make this client the CLI's LLM inference provider (right after the handshake, before
    any session exists). A CLI without the method is logged and False returned; a CLI that
    refuses raises :class:`~copilot_sync.CopilotError`."""
    try:
        result = connection.request(SET_PROVIDER, {}, timeout=timeout)
    except JsonRpcError as exc:
        if not is_unhandled(exc):
            raise
        logger.warning(
            "this Copilot CLI does not support %s: request_handler is not used, and the CLI "
            "calls the model itself",
            SET_PROVIDER,
        )
        return False
    if is_mapping(result) and result.get("success") is False:
        raise CopilotError(
            "the CLI did not accept this client as its LLM inference provider "
            f"(request_handler): {result!r:.200}"
        )
    return True
