"""Starting a client: spawning the CLI (or connecting to one), the handshake, the session
filesystem provider; a mixin of :class:`~copilot_sync.CopilotClient`."""

from __future__ import annotations

import errno
import logging
import os
import platform
import time
import uuid

from ._client_state import ClientState
from ._errors import (
    CLINotFoundError,
    ConnectionLostError,
    CopilotError,
    CopilotTimeoutError,
    JsonRpcError,
    ProtocolVersionError,
)
from ._fields import is_object
from ._lifetime import forked_error, weak_method
from ._logging import register_secret
from ._requests import extension_launch, model_http
from ._requests.session_fs import SessionFsConfig
from ._types import ConnectionState
from ._versions import DEFAULT_CLI_VERSION, cli_version_fit, describe_supported_range
from ._wire.connection import JsonRpcConnection, is_unhandled
from ._wire.dispatch import EventDispatcher
from ._wire.messages import fresh
from ._wire.process import CLIProcess
from ._wire.transport import SocketTransport, StdioTransport
from ._wire.workers import WorkerPool

__all__ = ["SDK_PROTOCOL_VERSION", "ClientStartup"]

SDK_PROTOCOL_VERSION = 3
"""The SDK protocol version this SDK speaks: the CLI must report exactly this one in
``connect`` (or ``ping``), or the client fails with ``ProtocolVersionError``."""
_AUTH_TOKEN_ENV = "COPILOT_GITHUB_TOKEN"

logger = logging.getLogger("copilot_sync.client")


class ClientStartup(ClientState):
    """Part of :class:`~copilot_sync.CopilotClient` (its state is set up there)."""

    server_version: str | None
    protocol_version: int | None
    cli_source: str | None

    # ================================================================ start

    def start(self) -> None:
        """Spawn (or connect to) the CLI and perform the protocol handshake.

        Raises :class:`CLINotFoundError`, :class:`ProcessExitedError` (the CLI died while
        starting), :class:`ProtocolVersionError`, or :class:`CopilotTimeoutError`.
        Calling it on a started client does nothing.
        """
        with self._state_lock:
            resources = self._resources
            if resources.holds_anything and not resources.in_owner_process:
                raise forked_error(resources.pid)
            if self._state is ConnectionState.CONNECTED and not self._connection_lost():
                return
            if self._connection is not None:
                self._teardown(kill=True)
            resources.pid = os.getpid()
            self._state = ConnectionState.CONNECTING
            self._stopping = False
            try:
                self._connect()
            except KeyboardInterrupt:
                self._teardown(kill=True)
                self._state = ConnectionState.DISCONNECTED
                raise
            except BaseException as exc:
                self._teardown(kill=True)
                self._state = ConnectionState.ERROR
                if (
                    isinstance(exc, (ConnectionLostError, JsonRpcError, CopilotTimeoutError))
                    and self._cli_url is None
                ):
                    raise self._not_the_cli(exc) from exc
                raise
            self._state = ConnectionState.CONNECTED

    def _connect(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        token = self._connection_token
        if self._cli_url is not None:
            self._transport = SocketTransport(
                self._host,
                self._port,
                connect_timeout=min(10.0, self._start_timeout),
                max_frame_bytes=self._max_frame_bytes,
            )
        else:
            if not self._use_stdio and token is None:
                token = str(uuid.uuid4())  # a spawned TCP server accepts only us
                register_secret(token)
            argv, env = self._spawn_command(token)
            self._process = self._spawn(argv, env)
            if self._use_stdio:
                self._transport = StdioTransport(
                    self._process, max_frame_bytes=self._max_frame_bytes
                )
            else:
                port = self._process.wait_for_port(max(0.1, min(10.0, deadline - time.monotonic())))
                self._transport = SocketTransport(
                    "127.0.0.1",
                    port,
                    process=self._process,
                    connect_timeout=10.0,
                    max_frame_bytes=self._max_frame_bytes,
                )
        self._pool = WorkerPool(self._max_workers, name=self._thread_name("copilot-worker"))
        transport = self._transport
        # The reader thread holds the client only weakly, so a dropped client can be collected.
        self._connection = JsonRpcConnection(
            transport.reader,
            transport.writer,
            on_notification=weak_method(self._on_notification),
            on_request=weak_method(self._on_request),
            on_close=weak_method(self._on_connection_closed),
            describe_end=transport.describe_end,
            name=self._thread_name("copilot-reader"),
        )
        self._connection.start()
        resources = self._resources
        resources.connection, resources.transport = self._connection, transport
        resources.process, resources.pool = self._process, self._pool
        if len(self._lifecycle_handlers):
            self._start_lifecycle_dispatcher()
        self._handshake(token, deadline)
        if self._extension_launch_provider is not None:  # before any session exists
            extension_launch.register(self._connection, max(1.0, deadline - time.monotonic()))
        if self._model_http.handler is not None:  # request_handler: before any session exists
            model_http.register(self._connection, max(1.0, deadline - time.monotonic()))
        plugins = self._server_options.builtin_plugin_directories
        if plugins:
            timeout = max(1.0, deadline - time.monotonic())
            self._connection.request(
                "plugins.builtin.set", {"paths": list(plugins)}, timeout=timeout
            )
        if self._session_fs is not None:  # before any session exists (the CLI refuses it later)
            self._set_session_fs_provider(self._session_fs, deadline)

    def _spawn(self, argv: list[str], env: dict[str, str]) -> CLIProcess:
        """Start the CLI; an executable that cannot run here is a :class:`CLINotFoundError`."""
        path = argv[0]
        try:
            return CLIProcess(argv, env=env, cwd=self._cwd, stdio=self._use_stdio)
        except OSError as exc:
            where = f"{platform.system()} {platform.machine()}"
            if exc.errno == errno.ENOEXEC:
                reason = (
                    f"it is not an executable for this platform ({where}): {exc.strerror}. "
                    "It may be a Copilot CLI built for another platform"
                )
            elif isinstance(exc, PermissionError):
                reason = f"it is not executable: {exc.strerror}"
            elif isinstance(exc, FileNotFoundError):
                reason = f"it (or its interpreter) does not exist: {exc.strerror}"
            else:
                raise
            raise CLINotFoundError(
                f"cannot run the Copilot CLI at {path} ({self.cli_source or 'cli_path'}): {reason}. "
                "Fix: `python -m copilot_sync install-cli` installs the right one for this machine, "
                "or pass cli_path= pointing at a working `copilot` executable.",
                tried=[path],
            ) from exc

    def _not_the_cli(self, error: BaseException) -> BaseException:
        """The same error, saying which program failed the handshake and what to check."""
        path = self._last_cli_path
        if path is None:
            return error
        clone = fresh(error)
        clone.args = (
            f"the program at {path} ({self.cli_source or 'cli_path'}) did not complete the Copilot CLI "
            f"handshake; is it the GitHub Copilot CLI (`{path} --version`)? "
            f"`python -m copilot_sync doctor` checks the set-up. Cause: {error}",
        )
        return clone

    def _thread_name(self, base: str) -> str:
        """Thread names: ``copilot-reader`` for the first client, ``copilot-reader-2`` for the second..."""
        return base if self._number == 1 else f"{base}-{self._number}"

    def _start_lifecycle_dispatcher(self) -> None:
        with self._state_lock:
            if self._lifecycle_dispatcher is None:
                self._lifecycle_dispatcher = EventDispatcher(
                    self._thread_name("copilot-lifecycle"), weak_method(self._deliver_lifecycle)
                )
                self._resources.lifecycle = self._lifecycle_dispatcher

    def _spawn_command(self, connection_token: str | None) -> tuple[list[str], dict[str, str]]:
        from ._discovery import resolve_cli

        resolved = resolve_cli(self._cli_path, env=self._env)
        self.cli_source = resolved.source
        self._last_cli_path = resolved.argv_prefix[0] if resolved.argv_prefix else None
        env = dict(self._env) if self._env is not None else dict(os.environ)
        env.update(resolved.env)
        argv = [
            *resolved.argv_prefix,
            *self._cli_args,
            "--headless",
            "--no-auto-update",
            "--log-level",
            self._log_level,
            *self._server_options.argv(),
        ]
        env.update(self._server_options.environment())
        if self._github_token is not None:
            argv += ["--auth-token-env", _AUTH_TOKEN_ENV]
            env[_AUTH_TOKEN_ENV] = (
                self._github_token
            )  # through the environment, never the command line
        if not self._use_logged_in_user:
            argv.append("--no-auto-login")
        if self._use_stdio:
            argv.append("--stdio")
        else:
            if self._port:
                argv += ["--port", str(self._port)]
            if connection_token is not None:
                env["COPILOT_CONNECTION_TOKEN"] = connection_token
        env.pop("NODE_DEBUG", None)
        return argv, env

    def _handshake(self, token: str | None, deadline: float) -> None:
        connection = self._connection
        assert connection is not None
        timeout = max(1.0, deadline - time.monotonic())
        try:
            params: dict[str, object] = {"token": token} if token else {}
            params.update(self._server_options.connect_params())
            result = connection.request("connect", params, timeout=timeout)
        except JsonRpcError as exc:
            self._server_options.check_connect_error(exc)  # EntraNotSupportedError
            if not is_unhandled(exc):
                raise
            logger.debug("the CLI does not know 'connect'; falling back to 'ping'")
            result = connection.request(
                "ping", {"message": None}, timeout=max(1.0, deadline - time.monotonic())
            )
        except CopilotTimeoutError:
            raise CopilotTimeoutError(
                f"the CLI did not answer the handshake within {self._start_timeout:g}s"
                + (f"\nstderr: {self._process.stderr_tail()}" if self._process else "")
            ) from None
        version = result.get("protocolVersion") if is_object(result) else None
        if version is None:
            raise ProtocolVersionError(
                f"SDK protocol version mismatch: this SDK speaks version {SDK_PROTOCOL_VERSION}, "
                "but the server does not report a protocol version; update the Copilot CLI",
                server_version=None,
            )
        if version != SDK_PROTOCOL_VERSION:
            raise ProtocolVersionError(
                f"SDK protocol version mismatch: this SDK speaks version {SDK_PROTOCOL_VERSION}, "
                f"but the server reports version {version}; use a CLI that speaks version {SDK_PROTOCOL_VERSION} "
                "(`python -m copilot_sync install-cli` installs the pinned one)",
                server_version=version if isinstance(version, int) else None,
            )
        self.protocol_version = version
        self.server_version = (
            result.get("version") if isinstance(result.get("version"), str) else None
        )
        _warn_outside_range(self.server_version)
        self._server_options.check_connected(self.server_version)

    def _set_session_fs_provider(self, config: SessionFsConfig, deadline: float) -> None:
        assert self._connection is not None
        timeout = max(1.0, deadline - time.monotonic())
        result = self._connection.request(
            "sessionFs.setProvider", config.to_wire(), timeout=timeout
        )
        if not is_object(result) or result.get("success") is not True:
            raise CopilotError(
                f"the CLI did not accept this client as its session filesystem provider: {result!r}"
            )


def _warn_outside_range(version: str | None) -> None:
    """One warning per connection to a CLI outside the supported range (none for a CLI
    that does not say its version: there is nothing to compare)."""
    fit = cli_version_fit(version)
    if fit == "older":
        logger.warning(
            "Copilot CLI %s is older than this SDK supports (%s); parts of it may not work. "
            "Run `python -m copilot_sync install-cli` for CLI %s",
            version,
            describe_supported_range(),
            DEFAULT_CLI_VERSION,
        )
    elif fit == "newer":
        logger.warning(
            "Copilot CLI %s is newer than this SDK has been tested with (%s); it should work, but new "
            "behaviour may be missed. `python -m copilot_sync install-cli` installs CLI %s",
            version,
            describe_supported_range(),
            DEFAULT_CLI_VERSION,
        )
