"""``CopilotClient``: starts (or attaches to) the Copilot CLI and owns the connection.

Threads: one reader (``copilot-reader``) that parses and routes; one event thread per
session; a lifecycle thread when someone listens to lifecycle events; the bounded
worker pool (``copilot-worker-<n>``) where every answer to the CLI is computed; and, for
a spawned CLI, one thread draining its stderr (and stdout in TCP mode).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from ._client_handlers import models_from_handler
from ._client_options import ClientInfo, EntraAuthConfig, ServerOptions, TelemetryConfig
from ._client_sessions import ClientSessions
from ._client_start import SDK_PROTOCOL_VERSION, ClientStartup
from ._client_stop import ClientShutdown
from ._cloud import EarlyEvents
from ._errors import (
    ClientStateError,
    ConnectionLostError,
    JsonRpcError,
    ProcessExitedError,
    UnsupportedMethodError,
)
from ._fields import is_mapping, is_object
from ._lifetime import ClientResources, forked_error, reap
from ._logging import redact, register_secret
from ._mode import ClientMode, check_mode
from ._requests import extension_launch, installations, model_http_exchange, router
from ._requests.arity import check_arity
from ._requests.extension_launch import ExtensionLaunchProvider
from ._requests.github_telemetry import GitHubTelemetryForwarder, GitHubTelemetryHandler
from ._requests.github_token import TokenProviders
from ._requests.installations import InstallationConfirmationHandler
from ._requests.model_http import CopilotRequestHandler
from ._requests.session_fs import SessionFsConfig
from ._requests.shell import ShellRouter
from ._rpc import wire_of
from ._session import SessionControl
from ._types import (
    ConnectionState,
    GetAuthStatusResponse,
    GetStatusResponse,
    ModelInfo,
    PingResponse,
    SessionLifecycleEvent,
)
from ._wire.connection import INTERNAL_ERROR, METHOD_NOT_FOUND, JsonRpcConnection, is_unhandled
from ._wire.dispatch import EventDispatcher, Subscribers
from ._wire.framing import DEFAULT_MAX_FRAME_BYTES, check_max_frame_bytes
from ._wire.messages import fresh
from ._wire.process import CLIProcess
from ._wire.timeouts import check_timeout
from ._wire.transport import SocketTransport, StdioTransport, parse_cli_url
from ._wire.workers import WorkerPool, check_max_workers

if TYPE_CHECKING:
    from ._session import CopilotSession
    from .generated.rpc import ServerRpc

__all__ = ["SDK_PROTOCOL_VERSION", "CopilotClient"]

logger = logging.getLogger("copilot_sync.client")

_LOG_LEVELS = ("none", "error", "warning", "info", "debug", "all", "default")
_client_numbers = itertools.count(1)

#: Server-to-client requests answered by a session (their params carry ``sessionId``).
LifecycleHandler = Callable[[SessionLifecycleEvent], Any]


class CopilotClient(ClientStartup, ClientSessions, ClientShutdown):
    """A connection to the GitHub Copilot CLI, with blocking methods.

    By default it spawns the CLI (found as described in :func:`copilot_sync.find_cli`) and
    talks to it over stdio; ``use_stdio=False`` uses TCP instead, and ``cli_url`` attaches
    to a server that is already running. Use it as a context manager, or call
    :meth:`start` and :meth:`stop`::

        with CopilotClient() as client:
            session = client.create_session(on_permission_request=PermissionHandler.approve_all)
            reply = session.send_and_wait("Hello!")  # reply.data.content is the text
    """

    _rpc_api: ServerRpc | None = None  # client.rpc, built on first access

    def __init__(
        self,
        *,
        cli_path: str | os.PathLike[str] | None = None,
        cli_args: Sequence[str] = (),
        cli_url: str | None = None,
        connection_token: str | None = None,
        use_stdio: bool = True,
        port: int = 0,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_level: str = "info",
        github_token: str | None = None,
        use_logged_in_user: bool | None = None,
        auto_start: bool = True,
        max_workers: int | None = None,
        start_timeout: float = 60.0,
        session_fs: SessionFsConfig | Mapping[str, Any] | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        on_list_models: Callable[[], Sequence[ModelInfo | Mapping[str, Any]]] | None = None,
        client_info: ClientInfo | None = None,
        session_idle_timeout_seconds: int | None = None,
        builtin_plugin_directories: Sequence[str | os.PathLike[str]] | None = None,
        base_directory: str | os.PathLike[str] | None = None,
        telemetry: TelemetryConfig | None = None,
        installation_confirmation_handler: InstallationConfirmationHandler | None = None,
        extension_launch_provider: ExtensionLaunchProvider | None = None,
        request_handler: CopilotRequestHandler | None = None,
        mode: ClientMode = "copilot-cli",
        entra: EntraAuthConfig | None = None,
        on_github_telemetry: GitHubTelemetryHandler | None = None,
    ) -> None:
        if cli_url is not None and cli_path is not None:
            raise ValueError(
                "give either cli_url (attach to a running server) or cli_path (spawn one), not both"
            )
        if isinstance(cli_args, str) or not all(isinstance(arg, str) for arg in cli_args):
            raise TypeError("cli_args must be a sequence of strings")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer between 0 and 65535, not {port!r}")
        if log_level not in _LOG_LEVELS:
            raise ValueError(
                f"log_level must be one of {', '.join(_LOG_LEVELS)}; got {log_level!r}"
            )
        if connection_token is not None and (
            not isinstance(connection_token, str) or not connection_token
        ):
            raise ValueError("connection_token must be a non-empty string")
        if github_token is not None and (not isinstance(github_token, str) or not github_token):
            raise ValueError("github_token must be a non-empty string")
        if on_list_models is not None:
            check_arity(on_list_models, 0, "on_list_models")
        if installation_confirmation_handler is not None:
            check_arity(installation_confirmation_handler, 1, "installation_confirmation_handler")
        if extension_launch_provider is not None:
            check_arity(extension_launch_provider, 1, "extension_launch_provider")
        server_options = ServerOptions.of(
            client_info=client_info,
            session_idle_timeout_seconds=session_idle_timeout_seconds,
            builtin_plugin_directories=builtin_plugin_directories,
            base_directory=base_directory,
            telemetry=telemetry,
            entra=entra,
            github_telemetry=on_github_telemetry is not None,
        )
        if cli_url is not None and server_options.shapes_the_process:
            raise ValueError(
                "session_idle_timeout_seconds, base_directory and telemetry configure a CLI this "
                "client spawns; with cli_url, configure the running server itself"
            )
        if env is not None and not is_mapping(env):
            raise TypeError("env must be a mapping of strings")
        if cli_url is not None:
            self._host, self._port = parse_cli_url(cli_url)
        else:
            self._host, self._port = "127.0.0.1", port
            if connection_token is not None and use_stdio:
                raise ValueError("connection_token is for TCP: pass use_stdio=False or cli_url")
        register_secret(github_token)
        register_secret(connection_token)
        self._cli_path = os.fspath(cli_path) if cli_path is not None else None
        self._cli_args = tuple(cli_args)
        self._cli_url = cli_url
        self._connection_token = connection_token
        self._use_stdio = use_stdio and cli_url is None
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._env = dict(env) if env is not None else None
        self._log_level = log_level
        self._github_token = github_token
        self._use_logged_in_user = (
            (github_token is None) if use_logged_in_user is None else bool(use_logged_in_user)
        )
        self._auto_start = auto_start
        self._max_workers = check_max_workers(max_workers)
        checked_start = check_timeout(start_timeout, "start_timeout")
        if checked_start is None:
            raise ValueError(
                "start_timeout must be a positive, finite number of seconds (the handshake needs a limit)"
            )
        self._start_timeout = checked_start
        self._session_fs = SessionFsConfig.of(session_fs) if session_fs is not None else None
        self._mode: ClientMode = check_mode(
            mode, base_directory=base_directory, session_fs=session_fs, cli_url=cli_url
        )
        self._max_frame_bytes = check_max_frame_bytes(max_frame_bytes)
        self._number = next(_client_numbers)

        self._state = ConnectionState.DISCONNECTED
        self._state_lock = threading.RLock()
        self._process: CLIProcess | None = None
        self._transport: StdioTransport | SocketTransport | None = None
        self._connection: JsonRpcConnection | None = None
        self._pool: WorkerPool | None = None
        self._sessions: dict[str, SessionControl] = {}  # by id; .session is the public object
        self._sessions_lock = threading.Lock()  # registering, replacing and forgetting sessions
        self._early_events = EarlyEvents()  # for cloud sessions, whose id comes with the answer
        self._lifecycle_handlers = Subscribers()
        self._lifecycle_dispatcher: EventDispatcher | None = None
        self._models: list[ModelInfo] | None = None
        self._models_lock = threading.Lock()
        self._on_list_models = on_list_models
        self._server_options = server_options
        self._installation_handler = installation_confirmation_handler
        self._extension_launch_provider = extension_launch_provider
        self._model_http = model_http_exchange.ModelHttpExchanges(request_handler)
        self._github_telemetry = GitHubTelemetryForwarder.of(on_github_telemetry)
        self._token_providers = TokenProviders()
        self._shell_router = ShellRouter()
        self._stopping = False
        # The OS-level resources, shared with the finalizer that releases them if this
        # client is collected without stop() (see _lifetime.py).
        self._resources = ClientResources()
        self._last_cli_path: str | None = None  # the program the last start() spawned
        finalizer = weakref.finalize(self, reap, self._resources)
        finalizer.atexit = False  # at exit, _process's reaper kills what is left
        self.server_version: str | None = None
        self.protocol_version: int | None = None
        self.cli_source: str | None = None

    def __repr__(self) -> str:
        # e.g. <CopilotClient connected stdio pid=4242 cli=1.0.81 sessions=1> (no tokens, ever)
        where = self._cli_url or ("stdio" if self._use_stdio else f"tcp:{self._port or 'auto'}")
        process = self._process
        pid = f" pid={process.pid}" if process is not None else ""
        version = f" cli={self.server_version}" if self.server_version else ""
        return f"<CopilotClient {self._state.value} {where}{pid}{version} sessions={len(self._sessions)}>"

    # ================================================================ state

    @property
    def state(self) -> ConnectionState:
        """``disconnected``, ``connecting``, ``connected`` or ``error`` (the CLI died or failed to start)."""
        return self._state

    @property
    def pid(self) -> int | None:
        """The process id of the spawned CLI, if this client spawned one."""
        return self._process.pid if self._process is not None else None

    @property
    def rpc(self) -> ServerRpc:
        """Every server-scoped method of the CLI's API, typed and blocking, by namespace:
        ``client.rpc.models.list()``, ``client.rpc.tools.list()``, ``client.rpc.mcp.config.list()``...

        Generated from the pinned CLI's schema (:mod:`copilot_sync.generated.rpc`) and
        loaded on first access. Keyword arguments are snake_case; each method takes
        ``timeout=`` and returns a typed result. Starts the client if needed.
        """
        rpc = self._rpc_api
        if rpc is None:
            from ._rpc import server_rpc

            rpc = self._rpc_api = server_rpc(self._request)
        return rpc

    def _connection_lost(self) -> bool:
        connection = self._connection
        return connection is None or connection.is_closed

    def _ensure_connected(self) -> JsonRpcConnection:
        resources = self._resources
        if resources.holds_anything and not resources.in_owner_process:
            raise forked_error(resources.pid)
        connection = self._connection
        if self._state is ConnectionState.CONNECTED and connection is not None:
            if connection.closed_error is not None:
                raise fresh(connection.closed_error)
            return connection
        if (
            self._state is ConnectionState.ERROR
            and connection is not None
            and connection.closed_error is not None
        ):
            raise ProcessExitedError(
                f"the connection to the CLI was lost ({connection.closed_error}); call start() to start a new one",
                exit_code=getattr(connection.closed_error, "exit_code", None),
                stderr=getattr(connection.closed_error, "stderr", ""),
            )
        if self._auto_start and self._state in (
            ConnectionState.DISCONNECTED,
            ConnectionState.ERROR,
        ):
            self.start()
            assert self._connection is not None
            return self._connection
        raise ClientStateError(f"the client is {self._state.value}; call start() first")

    def _request(self, method: str, params: Any = None, *, timeout: float | None = 60.0) -> Any:
        timeout = check_timeout(timeout)
        connection = self._ensure_connected()
        try:
            return connection.request(method, params, timeout=timeout)
        except JsonRpcError as exc:
            if is_unhandled(exc):
                raise UnsupportedMethodError(method, self.server_version, exc.message) from None
            raise

    # ================================================================ routing (reader thread)

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "session.event":
            try:
                control = self._sessions.get(params["sessionId"])
                event = params["event"]
            except (TypeError, KeyError):
                logger.warning("skipped a session.event without sessionId/event: %.120r", params)
                return
            if control is None:
                sid = params["sessionId"]
                if not self._early_events.offer(sid, event, lambda: self._sessions.get(sid)):
                    logger.debug("dropped an event for unknown session %.40r", sid)
                return
            control.enqueue(event)
        elif method == "session.lifecycle":
            dispatcher = self._lifecycle_dispatcher
            if dispatcher is not None and len(self._lifecycle_handlers):
                dispatcher.put(params)
        elif method == GitHubTelemetryForwarder.METHOD and self._github_telemetry is not None:
            self._github_telemetry.offer(self._pool, params)  # on_github_telemetry, in order
        elif method in ("shell.output", "shell.exit"):
            self._shell_router.route(method, params)
        else:
            logger.debug("ignored notification %s", method)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` on the worker pool (waiting for room if the queue is full).
        False if the client is stopping."""
        pool = self._pool
        return pool.submit(fn, *args) if pool is not None else False

    def _on_request(self, request_id: Any, method: str, params: Any) -> None:
        pool = self._pool
        if pool is None:
            return
        pool.submit(self._answer_request, request_id, method, params, wait=False)

    # ================================================================ answering (worker threads)

    def _answer_request(self, request_id: Any, method: str, params: Any) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            if method == installations.METHOD:
                result = installations.answer(self._installation_handler, params)
            elif method == extension_launch.METHOD:
                result = extension_launch.answer(self._extension_launch_provider, params)
            elif method in model_http_exchange.METHODS:  # request_handler's exchanges
                result = model_http_exchange.answer(
                    self._model_http, method, params, connection, self._submit
                )
            elif method in router.CLIENT_REQUESTS:
                result = self._token_providers.answer(params)
            else:
                request = router.find(method)
                if request is None:
                    raise router.method_not_found(method)
                result = self._session_for_request(method, params).handle_request(
                    request, method, params
                )
        except JsonRpcError as exc:
            if exc.code != METHOD_NOT_FOUND:
                logger.warning("request %s from the CLI failed: %s", method, exc.message)
            connection.respond_error(request_id, exc.code, exc.message, exc.data)
            return
        except (
            BaseException
        ) as exc:  # SystemExit, KeyboardInterrupt raised by hand...: still answered
            logger.exception("handler for %s raised", method)
            connection.respond_error(
                request_id, INTERNAL_ERROR, redact(str(exc)) or type(exc).__name__
            )
            return
        connection.respond(request_id, result)

    def _session_for_request(self, method: str, params: Any) -> SessionControl:
        session_id = params.get("sessionId") if is_object(params) else None
        control = self._sessions.get(session_id) if isinstance(session_id, str) else None
        if control is None:
            raise JsonRpcError(INTERNAL_ERROR, f"unknown session {session_id}")
        return control

    # ================================================================ connection end

    def _on_connection_closed(self, error: ConnectionLostError) -> None:
        """Called once, by whichever thread noticed: fail every session's waiters at once."""
        if self._stopping:
            return
        logger.error("connection to the CLI lost: %s", error)
        self._state = ConnectionState.ERROR
        self._model_http.cancel_all("the connection to the CLI was lost")  # request_handler
        for control in list(self._sessions.values()):
            control.close(fresh(error), wait=None)

    def _session_link(self) -> SessionLink:
        return SessionLink(self)

    def _forget_session(self, session: CopilotSession) -> None:
        self._token_providers.forget_owner(session)
        with self._sessions_lock:
            control = self._sessions.get(session.session_id)
            if control is not None and control.session is session:
                del self._sessions[session.session_id]

    @property
    def runtime_port(self) -> int | None:
        """The TCP port of the CLI server this client is connected to (``None`` over stdio
        or before :meth:`start`): another client can attach with ``cli_url=f"127.0.0.1:{port}"``.
        A server this client spawned accepts only its connection token: give
        ``connection_token=`` yourself to share it."""
        transport = self._transport
        return transport.port if isinstance(transport, SocketTransport) else None

    # ================================================================ server methods

    def ping(self, message: str | None = None, *, timeout: float | None = 60.0) -> PingResponse:
        """Round-trip a message through the CLI; returns the echo, its timestamp and protocol version."""
        if message is not None and not isinstance(message, str):
            raise TypeError(f"message must be a string, not {type(message).__name__}")
        return PingResponse.from_dict(wire_of(self.rpc.ping(message=message, timeout=timeout)))

    def get_status(self, *, timeout: float | None = 60.0) -> GetStatusResponse:
        """The CLI's version and protocol version. ``version`` is the one the CLI reported in
        the handshake: ``status.get`` itself says ``0.0.1`` on the native 1.0.8x executables."""
        status = GetStatusResponse.from_dict(self._request("status.get", {}, timeout=timeout))
        if self.server_version:
            status.version = self.server_version
        return status

    def get_auth_status(self, *, timeout: float | None = 60.0) -> GetAuthStatusResponse:
        """Whether the CLI is signed in, and as whom (``GetAuthStatusResponse``)."""
        return GetAuthStatusResponse.from_dict(self._request("auth.getStatus", {}, timeout=timeout))

    def list_models(
        self, *, refresh: bool = False, timeout: float | None = 60.0
    ) -> list[ModelInfo]:
        """The models available to this user; fetched once and cached until the client stops
        (``refresh=True`` asks again). With ``on_list_models=`` (a BYOK user's own list) that
        callable answers, in the calling thread, instead of the CLI."""
        with self._models_lock:
            if self._models is None or refresh:
                if self._on_list_models is not None:
                    self._models = models_from_handler(self._on_list_models())
                else:
                    result = wire_of(self.rpc.models.list(timeout=timeout))
                    models: list[Any] = result.get("models", []) if is_object(result) else []
                    self._models = [ModelInfo.from_dict(item) for item in models if is_object(item)]
            return list(self._models)

    # ================================================================ lifecycle events

    @overload
    def on_lifecycle(self, handler: LifecycleHandler, /) -> Callable[[], None]: ...

    @overload
    def on_lifecycle(self, event_type: str, handler: LifecycleHandler, /) -> Callable[[], None]: ...

    def on_lifecycle(
        self,
        event_type_or_handler: str | LifecycleHandler,
        handler: LifecycleHandler | None = None,
        /,
    ) -> Callable[[], None]:
        """Subscribe to session lifecycle events (created, updated, deleted, foreground,
        background), all or one type. Handlers run on the ``copilot-lifecycle`` thread.
        Returns a callable that unsubscribes."""
        if handler is None:
            if not callable(event_type_or_handler):
                raise TypeError("on_lifecycle() takes a handler, or an event type and a handler")
            entry: tuple[str | None, LifecycleHandler] = (None, event_type_or_handler)
        else:
            if not isinstance(event_type_or_handler, str) or not callable(handler):
                raise TypeError("on_lifecycle(event_type, handler) takes a string and a callable")
            entry = (event_type_or_handler, handler)
        unsubscribe = self._lifecycle_handlers.add(entry)
        if self._state in (ConnectionState.CONNECTING, ConnectionState.CONNECTED):
            self._start_lifecycle_dispatcher()  # otherwise start() starts it
        return unsubscribe

    def _deliver_lifecycle(self, params: Any) -> None:
        if not is_object(params):
            return
        event = SessionLifecycleEvent.from_notification(params)
        for event_type, handler in self._lifecycle_handlers.snapshot():
            if event_type is None or event_type == event.type:
                try:
                    handler(event)
                except BaseException:  # SystemExit and the like too: the next handler still runs
                    logger.exception("lifecycle handler %r raised", handler)


class SessionLink:
    """The client as its sessions see it (:class:`~._session.ClientLink`): the session layer
    reaches the connection, the worker pool and the session registry only through this."""

    __slots__ = ("_client",)

    def __init__(self, client: CopilotClient) -> None:
        self._client = client

    @property
    def shell_router(self) -> ShellRouter:
        return self._client._shell_router

    @property
    def connection(self) -> JsonRpcConnection | None:
        return self._client._connection

    def request(self, method: str, params: Any = None, *, timeout: float | None = 60.0) -> Any:
        return self._client._request(method, params, timeout=timeout)

    def ensure_connected(self) -> JsonRpcConnection:
        return self._client._ensure_connected()

    def connection_lost(self) -> bool:
        return self._client._connection_lost()

    def forget_session(self, session: CopilotSession) -> None:
        self._client._forget_session(session)

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        return self._client._submit(fn, *args)
