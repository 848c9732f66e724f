"""The session filesystem: the CLI keeps a session's state (``workspace.yaml``,
``events.jsonl``, ``plan.md``, checkpoints, workspace files, and optionally its SQLite
database) in storage this process provides, through ``sessionFs.*`` requests
(docs/SESSION_FS.md).

* :class:`SessionFsConfig` is the client option: ``CopilotClient(session_fs=...)`` sends
  ``sessionFs.setProvider`` right after the handshake, before any session exists.
* :class:`SessionFsHandler` is what a session's ``create_session_fs_handler`` factory
  returns: ordinary blocking methods that raise ordinary exceptions
  (``FileNotFoundError``, ``PermissionError``, any ``OSError``...).
* :class:`LocalSessionFs` (in :mod:`._session_fs_local`) is a ready handler that keeps everything in a local directory,
  confined to it.
* :class:`SessionFsAdapter` (in :mod:`._session_fs_wire`) turns requests into handler calls and handler results and
  exceptions into the wire results of CLI 1.0.81. A handler never leaves a request
  unanswered: failures become the schema's error results (``{"code": "ENOENT" |
  "UNKNOWN", "message"}``), and a malformed request a JSON-RPC error.

Wire facts (observed on CLI 1.0.81): paths are absolute in the provider's conventions;
most are under ``sessionStatePath``, some under ``$COPILOT_HOME/session-state/<id>``.
Operations without a result (writeFile, appendFile, mkdir, rm, rename) must answer
``null`` on success; ``{}`` makes the CLI fail with "missing field `code`". Error results
of readFile/readdir/stat must still carry their required fields.
"""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._wire.connection import INTERNAL_ERROR

__all__ = [
    "SessionFsConfig",
    "SessionFsEntry",
    "SessionFsHandler",
    "SessionFsSqliteError",
    "SessionFsSqliteResult",
    "SessionFsStat",
    "check_session_fs_option",
    "no_handler_error",
]

logger = logging.getLogger("copilot_sync.session_fs")

INVALID_PARAMS = -32602
CONVENTIONS = ("posix", "windows")
QUERY_TYPES = ("exec", "query", "run")
_ERROR_CLASSES = ("busyOrLocked", "fatal", "postCommitAmbiguous")
EPOCH = "1970-01-01T00:00:00.000Z"


# ---------------------------------------------------------------------------- option


def _absolute(path: str, conventions: str) -> bool:
    if conventions == "posix":
        return path.startswith("/")
    return path.startswith(("\\\\", "//")) or (
        len(path) >= 3 and path[0].isalpha() and path[1] == ":" and path[2] in "\\/"
    )


@dataclass(frozen=True)
class SessionFsConfig:
    """Makes a client the CLI's session filesystem provider: ``CopilotClient(session_fs=...)``.

    ``initial_cwd``: the working directory sessions start in (absolute).
    ``session_state_path``: where, inside each session's filesystem, the CLI keeps that
    session's files (absolute; the same for every session, since each session has a
    filesystem of its own).
    ``conventions``: ``"posix"`` or ``"windows"`` paths.
    ``sqlite``: declare that the handlers run SQL (the CLI's per-session database, used
    by its ``sql`` tool); without it CLI 1.0.81 offers no ``sql`` tool.
    ``binary``: declare that the handlers read and write raw bytes
    (:meth:`SessionFsHandler.read_file_bytes` / :meth:`~SessionFsHandler.write_file_bytes`):
    CLI 1.0.92 and later then send ``sessionFs.readFileBytes`` / ``writeFileBytes`` (to
    view images, for example); without it they never do.

    Every session of such a client needs ``create_session_fs_handler=``.
    """

    initial_cwd: str
    session_state_path: str
    conventions: Literal["posix", "windows"] = "posix"
    sqlite: bool = False
    binary: bool = False

    def __post_init__(self) -> None:
        if self.conventions not in CONVENTIONS:
            raise ValueError(
                f"session_fs conventions must be 'posix' or 'windows', not {self.conventions!r}"
            )
        for name in ("initial_cwd", "session_state_path"):
            value: Any = getattr(self, name)
            if isinstance(value, os.PathLike):
                value = os.fspath(cast("os.PathLike[str]", value))
                object.__setattr__(self, name, value)
            if not isinstance(value, str) or not value:
                raise TypeError(f"session_fs {name} must be a non-empty string, not {value!r}")
            if not _absolute(value, self.conventions):
                raise ValueError(
                    f"session_fs {name} must be an absolute {self.conventions} path, not {value!r}"
                )
        for flag in ("sqlite", "binary"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(
                    f"session_fs {flag} must be True or False, not {getattr(self, flag)!r}"
                )

    @classmethod
    def of(cls, value: Any) -> SessionFsConfig:
        """A config from a :class:`SessionFsConfig` or a mapping of its fields."""
        if isinstance(value, cls):
            return value
        if is_mapping(value):
            unknown = sorted(
                set(value)
                - {"initial_cwd", "session_state_path", "conventions", "sqlite", "binary"}
            )
            if unknown:
                raise TypeError(
                    f"session_fs has no field {unknown[0]!r}; "
                    "it takes initial_cwd, session_state_path, conventions, sqlite and binary"
                )
            try:
                return cls(**value)
            except TypeError as exc:
                if "missing" in str(exc):
                    raise TypeError("session_fs needs initial_cwd and session_state_path") from None
                raise
        raise TypeError(
            f"session_fs must be a SessionFsConfig or a dict of its fields, not {type(value).__name__}"
        )

    def to_wire(self) -> dict[str, Any]:
        """The params of ``sessionFs.setProvider``."""
        params: dict[str, Any] = {
            "initialCwd": self.initial_cwd,
            "sessionStatePath": self.session_state_path,
            "conventions": self.conventions,
        }
        capabilities = {name: True for name in ("sqlite", "binary") if getattr(self, name)}
        if capabilities:
            params["capabilities"] = capabilities
        return params


# ---------------------------------------------------------------------------- handler interface


@dataclass(frozen=True)
class SessionFsStat:
    """What :meth:`SessionFsHandler.stat` returns. Naive datetimes are taken as UTC."""

    is_file: bool
    is_directory: bool
    size: int
    mtime: datetime
    birthtime: datetime


@dataclass(frozen=True)
class SessionFsEntry:
    """One entry of :meth:`SessionFsHandler.readdir_with_types`: ``type`` is ``"file"`` or ``"directory"``."""

    name: str
    type: Literal["file", "directory"]


@dataclass
class SessionFsSqliteResult:
    """The result of one SQL statement. ``rows`` are dicts of column name to value."""

    columns: list[str] = field(default_factory=list[str])
    rows: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    rows_affected: int = 0
    last_insert_rowid: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """The result as the CLI's ``sessionFs.sqlite`` response expects it."""
        wire: dict[str, Any] = {
            "rows": list(self.rows),
            "columns": list(self.columns),
            "rowsAffected": max(0, int(self.rows_affected)),
        }
        if self.last_insert_rowid is not None:
            wire["lastInsertRowid"] = int(self.last_insert_rowid)
        return wire


class SessionFsSqliteError(Exception):
    """Raise from :meth:`SessionFsHandler.sqlite_transaction` to classify a failure:
    ``"busyOrLocked"`` (rolled back, may be retried), ``"fatal"`` (the default) or
    ``"postCommitAmbiguous"`` (may have committed; never retried)."""

    def __init__(self, message: str, error_class: str = "fatal") -> None:
        if error_class not in _ERROR_CLASSES:
            raise ValueError(
                f"error_class must be one of {', '.join(_ERROR_CLASSES)}, not {error_class!r}"
            )
        super().__init__(message)
        self.error_class = error_class


_NO_SQLITE = "SQLite is not supported by this session filesystem handler"
_NO_BINARY = "raw bytes are not supported by this session filesystem handler"


class SessionFsHandler(abc.ABC):
    """One session's filesystem, as the CLI sees it. Subclass it (or use :class:`LocalSessionFs`).

    Methods run on the client's worker threads (possibly several at once), take the
    CLI's paths as given (absolute, in the provider's conventions) and raise ordinary
    exceptions on failure: ``FileNotFoundError`` (or any ``OSError`` with
    ``errno.ENOENT``) is reported as ``ENOENT``, anything else as ``UNKNOWN`` with its
    message. The SQLite methods are optional; the defaults say "not supported".
    """

    @abc.abstractmethod
    def read_file(self, path: str) -> str:
        """The whole file as text."""

    @abc.abstractmethod
    def write_file(self, path: str, content: str, mode: int | None = None) -> None:
        """Create or replace a file; ``mode`` (e.g. ``0o600``) applies when it is created."""

    @abc.abstractmethod
    def append_file(self, path: str, content: str, mode: int | None = None) -> None:
        """Append to a file, creating it (with ``mode``) if needed."""

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Whether the path exists."""

    @abc.abstractmethod
    def stat(self, path: str) -> SessionFsStat:
        """Type, size and times of a path."""

    @abc.abstractmethod
    def mkdir(self, path: str, recursive: bool = False, mode: int | None = None) -> None:
        """Create a directory; ``recursive`` creates parents and accepts an existing directory."""

    @abc.abstractmethod
    def readdir(self, path: str) -> list[str]:
        """The names in a directory."""

    @abc.abstractmethod
    def readdir_with_types(self, path: str) -> list[SessionFsEntry]:
        """The entries of a directory, each a file or a directory."""

    @abc.abstractmethod
    def rm(self, path: str, recursive: bool = False, force: bool = False) -> None:
        """Remove a file, or a directory with ``recursive``; ``force`` ignores a missing path."""

    @abc.abstractmethod
    def rename(self, src: str, dest: str) -> None:
        """Move ``src`` to ``dest``, replacing a file there."""

    def read_file_bytes(self, path: str) -> bytes:
        """The whole file as bytes (``SessionFsConfig(binary=True)``; CLI 1.0.92 and later)."""
        raise NotImplementedError(_NO_BINARY)

    def write_file_bytes(self, path: str, content: bytes, mode: int | None = None) -> None:
        """Create or replace a file with ``content`` (``SessionFsConfig(binary=True)``)."""
        raise NotImplementedError(_NO_BINARY)

    def sqlite_query(
        self, query_type: str, query: str, params: Mapping[str, Any] | None = None
    ) -> SessionFsSqliteResult | None:
        """Run SQL on the session's database: ``query_type`` is ``"exec"`` (DDL or several
        statements, no rows), ``"query"`` (returns rows) or ``"run"`` (returns the affected
        count and last row id). ``params`` are named bind parameters."""
        raise NotImplementedError(_NO_SQLITE)

    def sqlite_transaction(
        self, statements: Sequence[Mapping[str, Any]]
    ) -> list[SessionFsSqliteResult]:
        """Run ``statements`` (``{"query", "queryType", "params"?}``) atomically; one result each."""
        raise NotImplementedError(_NO_SQLITE)

    def sqlite_exists(self) -> bool:
        """Whether the session's database exists (without creating it)."""
        return False

    @property
    def supports_sqlite(self) -> bool:
        """True when the class overrides :meth:`sqlite_query`."""
        return type(self).sqlite_query is not SessionFsHandler.sqlite_query


# ---------------------------------------------------------------------------- sessions


def check_session_fs_option(config: SessionFsConfig | None, factory: Any, where: str) -> None:
    """At the call: a client with ``session_fs`` needs a factory on every session, and a
    factory needs a client with ``session_fs``."""
    if factory is None:
        if config is not None:
            raise ValueError(
                f"{where}() needs create_session_fs_handler=: this client is the CLI's session filesystem "
                "provider (session_fs=...), so every session must say where its files go, e.g. "
                "create_session_fs_handler=LocalSessionFs.per_session(directory)"
            )
        return
    if config is None:
        raise ValueError(
            f"{where}() got create_session_fs_handler, but the client has no session_fs: pass "
            "CopilotClient(session_fs=SessionFsConfig(initial_cwd=..., session_state_path=...))"
        )
    if not callable(factory):
        raise TypeError(
            f"create_session_fs_handler must be callable (session -> SessionFsHandler), not {type(factory).__name__}"
        )


def no_handler_error(session_id: str, method: str) -> JsonRpcError:
    return JsonRpcError(
        INTERNAL_ERROR,
        f"session {session_id} has no session filesystem handler for {method}: pass session_fs= to "
        "CopilotClient and create_session_fs_handler= to create_session()/resume_session()",
    )
