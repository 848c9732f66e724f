"""Opening, resuming and listing sessions: the part of :class:`~copilot_sync.CopilotClient`
that keeps its session registry.

A local session is registered under its id before ``session.create``/``session.resume`` is
sent, so its first events and requests find it; a cloud session without an id is
registered when the answer names it (``_cloud.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ._client_handlers import register_interest
from ._client_state import ClientState
from ._cloud import check_cloud_options
from ._errors import CopilotError, SessionClosedError
from ._fields import is_mapping, is_object
from ._mode import EMPTY_WIRE, apply_mode
from ._requests import mcp_auth
from ._requests.session_fs import check_session_fs_option
from ._requests.session_fs_wire import session_fs_adapter
from ._session import CopilotSession, SessionControl
from ._session_config import CREATE_OPTIONS, RESUME_OPTIONS, build_session_params, check_options
from ._types import SessionListFilter, SessionMetadata
from ._wire.timeouts import check_timeout

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._client import CopilotClient
    from ._session_options import ResumeOptions, SessionOptions

__all__ = ["ClientSessions"]

logger = logging.getLogger("copilot_sync.client")


class ClientSessions(ClientState):
    """Part of :class:`~copilot_sync.CopilotClient` (its state is set up there)."""

    @property
    def _as_client(self) -> CopilotClient:
        return cast("CopilotClient", self)

    def create_session(
        self, *, timeout: float | None = 120.0, **options: Unpack[SessionOptions]
    ) -> CopilotSession:
        """Create a session. Keyword arguments are the session options
        (:class:`~copilot_sync.SessionOptions`, each documented there); an unknown one
        raises ``TypeError`` with a "did you mean". The session is registered before the CLI is
        asked, so ``on_event`` sees every event from the first one.
        """
        given: dict[str, Any] = dict(options)
        check_options(given, CREATE_OPTIONS, "create_session")
        given = apply_mode(self._mode, given, "create_session")
        if given.get("cloud") is not None and not given.get("session_id"):
            return self._open_cloud_session(given, timeout)
        session_id = given.get("session_id") or str(uuid.uuid4())
        params = self._session_params(session_id, given, resume=False)
        return self._open_session("session.create", session_id, given, params, timeout)

    def resume_session(
        self, session_id: str, *, timeout: float | None = 120.0, **options: Unpack[ResumeOptions]
    ) -> CopilotSession:
        """Resume a session by id (this process's or an earlier one's). Handlers, tools and
        the provider are not stored by the CLI: pass them again. The options are
        :class:`~copilot_sync.ResumeOptions`."""
        if not isinstance(session_id, str) or not session_id:
            raise TypeError("session_id must be a non-empty string")
        given: dict[str, Any] = dict(options)
        check_options(given, RESUME_OPTIONS, "resume_session")
        given = apply_mode(self._mode, given, "resume_session")
        if "session_id" in given and given["session_id"] != session_id:
            raise ValueError("session_id given twice with different values")
        given["session_id"] = session_id
        params = self._session_params(session_id, given, resume=True)
        return self._open_session("session.resume", session_id, given, params, timeout)

    def _session_params(
        self, session_id: str, options: Mapping[str, Any], *, resume: bool
    ) -> dict[str, Any]:
        """The ``session.create``/``session.resume`` params: the options' wire fields, then
        what this client adds (telemetry opt-in, ``mode="empty"``'s fields)."""
        params = build_session_params(session_id, options, resume=resume)
        params.update(self._server_options.session_params())
        if self._mode == "empty":
            params.update(EMPTY_WIRE)
        return params

    def _open_session(
        self,
        method: str,
        session_id: str,
        options: Mapping[str, Any],
        params: dict[str, Any],
        timeout: float | None,
    ) -> CopilotSession:
        timeout = check_timeout(timeout)
        fs_factory = options.get("create_session_fs_handler")
        check_session_fs_option(
            self._session_fs, fs_factory, method.replace("session.", "") + "_session"
        )
        connection = self._ensure_connected()
        control = SessionControl(
            CopilotSession(self._as_client, session_id, options, self._session_link())
        )
        session = control.session
        # Register before the RPC: early events and requests find the new object. Resuming
        # a session that is open here replaces the old object (a reloaded notebook cell, a
        # reconnect after an error); creating one with an id in use is a mistake.
        with self._sessions_lock:
            previous = self._sessions.get(session_id)
            duplicate = previous is not None and method == "session.create"
            if not duplicate:
                self._sessions[session_id] = control
        if duplicate:
            control.close(SessionClosedError(f"session {session_id} is already open"), wait=None)
            raise ValueError(
                f"session {session_id} is already open on this client; use resume_session() to take "
                "it over, or disconnect() it first"
            )
        provider = options.get("github_token_provider")
        try:
            if provider is not None:  # the CLI asks it for a token while session.create runs
                params["gitHubTokenProviderRegistrationId"] = self._token_providers.register(
                    provider, session_id, session
                )
            if self._session_fs is not None:  # the CLI asks it for files while session.create runs
                control.use_session_fs(session_fs_adapter(session, fs_factory, self._session_fs))
            result = connection.request(method, params, timeout=timeout)
            returned = result.get("sessionId") if is_object(result) else None
            if returned is not None and returned != session_id:
                raise CopilotError(
                    f"{method} answered for session {returned!r}, not {session_id!r}"
                )
        except BaseException:
            self._token_providers.forget_owner(session)
            with self._sessions_lock:
                if self._sessions.get(session_id) is control:
                    if previous is not None and not previous.session.closed:
                        self._sessions[session_id] = (
                            previous  # the resume failed: the old object goes on
                        )
                    else:
                        del self._sessions[session_id]
            control.close(SessionClosedError(f"{method} failed for session {session_id}"), wait=0.5)
            raise
        control.apply_result(result)
        if options.get("on_mcp_auth_request") is not None:
            register_interest(session, mcp_auth.INTEREST, timeout)
        if previous is not None:
            self._token_providers.forget_owner(previous.session)
            logger.info(
                "session %s: resumed by a new CopilotSession; the previous object is closed",
                session_id,
            )
            previous.close(
                SessionClosedError(
                    f"session {session_id} was resumed by another CopilotSession object on this client, "
                    "which now receives its events; use that one"
                ),
                wait=0.5,
            )
        return session

    def _open_cloud_session(self, options: dict[str, Any], timeout: float | None) -> CopilotSession:
        """``session.create`` for a cloud session without an id: the answer names it, and
        the events that came before it wait in ``_early_events`` (``_cloud.py``)."""
        timeout = check_timeout(timeout)
        check_cloud_options(options, has_session_fs=self._session_fs is not None)
        params = self._session_params("", options, resume=False)
        del params["sessionId"]  # the CLI chooses the id
        connection = self._ensure_connected()
        self._early_events.begin()
        try:
            result = connection.request("session.create", params, timeout=timeout)
            session_id = result.get("sessionId") if is_object(result) else None
            if not isinstance(session_id, str) or not session_id:
                raise CopilotError(
                    "session.create for a cloud session answered without a sessionId"
                )
            control = SessionControl(
                CopilotSession(self._as_client, session_id, options, self._session_link())
            )

            def install() -> None:
                with self._sessions_lock:
                    if session_id in self._sessions:
                        raise CopilotError(
                            f"the CLI gave the cloud session an id in use: {session_id}"
                        )
                    self._sessions[session_id] = control

            self._early_events.register(session_id, install, control.enqueue)
        finally:
            self._early_events.end()
        control.apply_result(result)
        if options.get("on_mcp_auth_request") is not None:
            register_interest(control.session, mcp_auth.INTEREST, timeout)
        return control.session

    @property
    def sessions(self) -> list[CopilotSession]:
        """The sessions open on this client."""
        return [control.session for control in list(self._sessions.values())]

    def list_sessions(
        self,
        filter: SessionListFilter | Mapping[str, Any] | None = None,
        *,
        timeout: float | None = 60.0,
    ) -> list[SessionMetadata]:
        """Every session the CLI knows (newest first), optionally filtered by ``cwd``/git root/repository/branch."""
        params: dict[str, Any] = {}
        if filter is not None:
            if is_mapping(filter):
                filter = SessionListFilter(**filter)
            if not isinstance(filter, SessionListFilter):
                raise TypeError("filter must be a SessionListFilter or a dict of its fields")
            params["filter"] = filter.to_dict()
        result = self._request("session.list", params, timeout=timeout)
        sessions: list[Any] = result.get("sessions", []) if is_object(result) else []
        return [SessionMetadata.from_dict(item) for item in sessions if is_object(item)]

    def get_session_metadata(
        self, session_id: str, *, timeout: float | None = 60.0
    ) -> SessionMetadata | None:
        """The stored metadata of one session (``SessionMetadata``), or ``None`` if the CLI does not know it."""
        result = self._request("session.getMetadata", {"sessionId": session_id}, timeout=timeout)
        session = result.get("session") if is_object(result) else None
        return SessionMetadata.from_dict(session) if is_object(session) else None

    def get_last_session_id(self, *, timeout: float | None = 60.0) -> str | None:
        """The id of the most recently used session, or ``None`` when there is none."""
        result = self._request("session.getLastId", {}, timeout=timeout)
        value = result.get("sessionId") if is_object(result) else None
        return value if isinstance(value, str) and value else None

    def delete_session(self, session_id: str, *, timeout: float | None = 60.0) -> None:
        """Delete a session and its data on disk, for good. Raises :class:`CopilotError` if the CLI refuses."""
        result = self._request("session.delete", {"sessionId": session_id}, timeout=timeout)
        control = self._sessions.get(session_id)
        if control is not None:
            control.close(SessionClosedError(f"session {session_id} was deleted"), wait=None)
        if is_object(result) and result.get("success") is False:
            raise CopilotError(
                f"Failed to delete session {session_id}: {result.get('error', 'unknown error')}"
            )

    def get_foreground_session_id(self, *, timeout: float | None = 60.0) -> str | None:
        """The TUI's foreground session (only a CLI started with ``--ui-server`` has one)."""
        result = self._request("session.getForeground", {}, timeout=timeout)
        value = result.get("sessionId") if is_object(result) else None
        return value if isinstance(value, str) and value else None

    def set_foreground_session_id(self, session_id: str, *, timeout: float | None = 60.0) -> None:
        """Tell the CLI which session is in the foreground (the one a TUI shows)."""
        result = self._request("session.setForeground", {"sessionId": session_id}, timeout=timeout)
        if is_object(result) and result.get("success") is False:
            raise CopilotError(
                f"Failed to set the foreground session: {result.get('error', 'unknown error')}"
            )
