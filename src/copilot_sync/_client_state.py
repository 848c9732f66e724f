"""The state :class:`~copilot_sync.CopilotClient` keeps, declared once for the type checkers
so that its parts (``ClientStartup``, ``ClientShutdown``) can use it; ``CopilotClient.__init__``
sets every attribute. Nothing here exists at run time beyond the class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Mapping, Sequence

    from ._client_options import ServerOptions
    from ._cloud import EarlyEvents
    from ._errors import ConnectionLostError
    from ._lifetime import ClientResources
    from ._mode import ClientMode
    from ._requests.extension_launch import ExtensionLaunchProvider
    from ._requests.github_token import TokenProviders
    from ._requests.installations import InstallationConfirmationHandler
    from ._requests.model_http_exchange import ModelHttpExchanges
    from ._requests.session_fs import SessionFsConfig
    from ._requests.shell import ShellRouter
    from ._session import ClientLink, CopilotSession, SessionControl
    from ._types import ConnectionState, ModelInfo
    from ._wire.connection import JsonRpcConnection
    from ._wire.dispatch import EventDispatcher, Subscribers
    from ._wire.process import CLIProcess
    from ._wire.transport import SocketTransport, StdioTransport
    from ._wire.workers import WorkerPool

__all__ = ["ClientState"]


class ClientState:
    """Attributes and methods of :class:`~copilot_sync.CopilotClient` that its parts use."""

    if TYPE_CHECKING:
        _host: str
        _port: int
        _cli_path: str | None
        _cli_args: tuple[str, ...]
        _cli_url: str | None
        _connection_token: str | None
        _use_stdio: bool
        _cwd: str | None
        _env: dict[str, str] | None
        _log_level: str
        _github_token: str | None
        _use_logged_in_user: bool
        _auto_start: bool
        _max_workers: int
        _start_timeout: float
        _session_fs: SessionFsConfig | None
        _max_frame_bytes: int
        _number: int
        _state: ConnectionState
        _state_lock: threading.RLock
        _process: CLIProcess | None
        _transport: StdioTransport | SocketTransport | None
        _connection: JsonRpcConnection | None
        _pool: WorkerPool | None
        _sessions: dict[str, SessionControl]
        _sessions_lock: threading.Lock
        _early_events: EarlyEvents
        _mode: ClientMode
        _lifecycle_handlers: Subscribers
        _lifecycle_dispatcher: EventDispatcher | None
        _models: list[ModelInfo] | None
        _models_lock: threading.Lock
        _on_list_models: Callable[[], Sequence[ModelInfo | Mapping[str, Any]]] | None
        _token_providers: TokenProviders
        _server_options: ServerOptions
        _installation_handler: InstallationConfirmationHandler | None
        _extension_launch_provider: ExtensionLaunchProvider | None
        _model_http: ModelHttpExchanges
        _shell_router: ShellRouter
        _stopping: bool
        _resources: ClientResources
        _last_cli_path: str | None

        def start(self) -> None: ...
        def _teardown(self, *, kill: bool, deadline: float | None = None) -> list[Exception]: ...
        def _connection_lost(self) -> bool: ...
        def _ensure_connected(self) -> JsonRpcConnection: ...
        def _session_link(self) -> ClientLink: ...
        def _forget_session(self, session: CopilotSession) -> None: ...
        def _request(
            self, method: str, params: Any = None, *, timeout: float | None = 60.0
        ) -> Any: ...
        def _on_notification(self, method: str, params: Any) -> None: ...
        def _on_request(self, request_id: Any, method: str, params: Any) -> None: ...
        def _on_connection_closed(self, error: ConnectionLostError) -> None: ...
        def _deliver_lifecycle(self, params: Any) -> None: ...
