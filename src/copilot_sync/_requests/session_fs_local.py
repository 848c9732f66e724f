""":class:`LocalSessionFs`: a ready session filesystem handler that keeps everything in
a local directory, confined to it (``..`` and symlink escapes are refused), with SQLite
through the standard library's ``sqlite3``. The interface is in :mod:`._session_fs`."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat as _stat
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, cast

from .._fields import is_mapping
from .session_fs import (
    CONVENTIONS,
    QUERY_TYPES,
    SessionFsEntry,
    SessionFsHandler,
    SessionFsSqliteError,
    SessionFsSqliteResult,
    SessionFsStat,
)

if TYPE_CHECKING:
    from .._session import CopilotSession

__all__ = ["LocalSessionFs"]

logger = logging.getLogger("copilot_sync.session_fs")


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _check_mode(mode: Any) -> int | None:
    if mode is None:
        return None
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        raise ValueError(f"mode must be a permission number such as 0o600, not {mode!r}")
    return mode


def _encode(content: Any) -> bytes:
    if not isinstance(content, str):
        raise TypeError(f"content must be a string, not {type(content).__name__}")
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON: U+FFFD, as Node writes them
        return content.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


class LocalSessionFs(SessionFsHandler):
    """A session filesystem kept in a local directory: the CLI's path ``/a/b`` is
    ``<root>/a/b`` (a Windows path ``C:\\a\\b`` is ``<root>/C/a/b``).

    Confined to ``root``: a path that climbs above it with ``..``, or that reaches
    outside it through a symlink, raises ``PermissionError`` (EACCES); the root itself
    cannot be removed or renamed. Text is UTF-8 (bytes that are not UTF-8 read as
    U+FFFD). Modes are applied like ``open``/``mkdir`` do (the umask applies).
    SQLite runs on ``sqlite_path`` (default ``<root>/session.db``, where the CLI keeps
    it locally), with the stdlib :mod:`sqlite3`.

    Give each session a directory of its own: ``create_session_fs_handler=
    LocalSessionFs.per_session(base)`` uses ``<base>/<session id>``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        conventions: Literal["posix", "windows"] = "posix",
        sqlite_path: str | os.PathLike[str] | None = None,
        busy_timeout: float = 5.0,
    ) -> None:
        if conventions not in CONVENTIONS:
            raise ValueError(f"conventions must be 'posix' or 'windows', not {conventions!r}")
        self.root: str = os.path.abspath(os.fspath(root))
        os.makedirs(self.root, exist_ok=True)
        self._real_root = os.path.realpath(self.root)
        self.conventions = conventions
        self.sqlite_path: str = (
            os.path.abspath(os.fspath(sqlite_path))
            if sqlite_path is not None
            else os.path.join(self.root, "session.db")
        )
        self.busy_timeout: float = float(busy_timeout)

    def __repr__(self) -> str:
        return f"LocalSessionFs({self.root!r})"

    @classmethod
    def per_session(
        cls, base: str | os.PathLike[str], **options: Any
    ) -> Callable[[CopilotSession], LocalSessionFs]:
        """A ``create_session_fs_handler`` factory: ``<base>/<session id>`` for each session."""
        base = os.fspath(base)
        return lambda session: cls(os.path.join(base, session.session_id), **options)

    # ------------------------------------------------------------ paths

    def local_path(self, path: str, *, follow: bool = True) -> str:
        """The local path for a CLI path, or ``PermissionError`` if it leads outside the root.
        With ``follow=False`` a final symlink is not followed (it is the thing acted on)."""
        if not isinstance(path, str):
            raise TypeError(f"path must be a string, not {type(path).__name__}")
        if "\x00" in path:
            raise OSError(errno.EINVAL, "path contains a NUL character", path)
        raw = path.replace("\\", "/") if self.conventions == "windows" else path
        parts: list[str] = []
        for index, part in enumerate(raw.split("/")):
            if index == 0 and self.conventions == "windows" and len(part) == 2 and part[1] == ":":
                part = part[0]
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise PermissionError(
                        errno.EACCES, "path climbs above the session filesystem root", path
                    )
                parts.pop()
                continue
            parts.append(part)
        local = os.path.join(self.root, *parts)
        target = local if follow or not parts else os.path.dirname(local)
        real = os.path.realpath(target)
        if real != self._real_root and not real.startswith(self._real_root.rstrip(os.sep) + os.sep):
            raise PermissionError(
                errno.EACCES, "path leads outside the session filesystem root", path
            )
        return local

    def _not_root(self, local: str, path: str, what: str) -> None:
        if os.path.normcase(local.rstrip(os.sep)) == os.path.normcase(self.root.rstrip(os.sep)):
            raise PermissionError(errno.EACCES, f"cannot {what} the session filesystem root", path)

    @contextlib.contextmanager
    def _as(self, path: str) -> Generator[None, None, None]:
        """Re-raise OS errors naming the CLI's path, not the local one."""
        try:
            yield
        except OSError as exc:
            if exc.errno is None or exc.filename == path:
                raise
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), path) from None

    # ------------------------------------------------------------ files

    def read_file(self, path: str) -> str:
        """The whole file as text (UTF-8), from under the root."""
        local = self.local_path(path)
        with self._as(path), open(local, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")

    def read_file_bytes(self, path: str) -> bytes:
        """The whole file as bytes, from under the root."""
        local = self.local_path(path)
        with self._as(path), open(local, "rb") as handle:
            return handle.read()

    def write_file_bytes(self, path: str, content: bytes, mode: int | None = None) -> None:
        """Create or replace a file under the root with ``content``."""
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError(f"content must be bytes, not {type(content).__name__}")
        self._write_data(path, bytes(content), mode, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)

    def _write(self, path: str, content: str, mode: int | None, flags: int) -> None:
        self._write_data(path, _encode(content), mode, flags)

    def _write_data(self, path: str, data: bytes, mode: int | None, flags: int) -> None:
        mode = _check_mode(mode)
        local = self.local_path(path)
        with self._as(path):
            if os.path.isdir(local):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
            fd = os.open(
                local,
                flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0),
                0o666 if mode is None else mode,
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)

    def write_file(self, path: str, content: str, mode: int | None = None) -> None:
        """Create or replace a text file under the root; ``mode`` applies when it is created."""
        self._write(path, content, mode, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)

    def append_file(self, path: str, content: str, mode: int | None = None) -> None:
        """Append text to a file under the root, creating it (with ``mode``) if needed."""
        self._write(path, content, mode, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def exists(self, path: str) -> bool:
        """Whether the path exists under the root."""
        return os.path.exists(self.local_path(path))

    def stat(self, path: str) -> SessionFsStat:
        """Type, size and times of a path under the root."""
        local = self.local_path(path)
        with self._as(path):
            info = os.stat(local)
        birth = getattr(info, "st_birthtime", None)
        return SessionFsStat(
            is_file=_stat.S_ISREG(info.st_mode),
            is_directory=_stat.S_ISDIR(info.st_mode),
            size=info.st_size,
            mtime=_utc(info.st_mtime),
            birthtime=_utc(birth if birth is not None else min(info.st_ctime, info.st_mtime)),
        )

    # ------------------------------------------------------------ directories

    def mkdir(self, path: str, recursive: bool = False, mode: int | None = None) -> None:
        """Create a directory under the root; ``recursive`` creates parents and accepts an existing one."""
        mode = _check_mode(mode)
        local = self.local_path(path)
        with self._as(path):
            if not recursive:
                os.mkdir(local, 0o777 if mode is None else mode)
                return
            self._makedirs(local, 0o777 if mode is None else mode)

    def _makedirs(self, local: str, mode: int) -> None:
        if os.path.isdir(local):
            return
        parent = os.path.dirname(local)
        if parent != local and not os.path.isdir(parent):
            self._makedirs(parent, mode)
        try:
            os.mkdir(local, mode)
        except FileExistsError:
            if not os.path.isdir(local):
                raise

    def readdir(self, path: str) -> list[str]:
        """The names in a directory under the root."""
        local = self.local_path(path)
        with self._as(path):
            return sorted(os.listdir(local))

    def readdir_with_types(self, path: str) -> list[SessionFsEntry]:
        """The entries of a directory under the root, each a file or a directory."""
        local = self.local_path(path)
        with self._as(path), os.scandir(local) as entries:
            found = [
                SessionFsEntry(e.name, "directory" if e.is_dir(follow_symlinks=False) else "file")
                for e in entries
            ]
        return sorted(found, key=lambda entry: entry.name)

    def rm(self, path: str, recursive: bool = False, force: bool = False) -> None:
        """Remove a file, or a directory with ``recursive``; ``force`` ignores a missing path."""
        local = self.local_path(path, follow=False)
        self._not_root(local, path, "remove")
        with self._as(path):
            try:
                info = os.lstat(local)
            except FileNotFoundError:
                if force:
                    return
                raise
            if _stat.S_ISDIR(info.st_mode):
                if not recursive:
                    raise IsADirectoryError(
                        errno.EISDIR, "is a directory (remove it with recursive)", path
                    )
                import shutil

                shutil.rmtree(local)
            else:
                os.unlink(local)

    def rename(self, src: str, dest: str) -> None:
        """Move ``src`` to ``dest`` (both under the root), replacing a file there."""
        local_src = self.local_path(src, follow=False)
        local_dest = self.local_path(dest, follow=False)
        self._not_root(local_src, src, "rename")
        self._not_root(local_dest, dest, "replace")
        with self._as(src):
            os.replace(local_src, local_dest)

    # ------------------------------------------------------------ SQLite

    def _connect(self) -> Any:
        import sqlite3

        return sqlite3.connect(
            self.sqlite_path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )

    def sqlite_exists(self) -> bool:
        """Whether the session's SQLite database file exists (without creating it)."""
        return os.path.isfile(self.sqlite_path)

    def sqlite_query(
        self, query_type: str, query: str, params: Mapping[str, Any] | None = None
    ) -> SessionFsSqliteResult:
        """Run SQL on the session's SQLite database under the root (``sqlite=True``)."""
        connection = self._connect()
        try:
            return _run_statement(connection, query_type, query, params)
        finally:
            connection.close()

    def sqlite_transaction(
        self, statements: Sequence[Mapping[str, Any]]
    ) -> list[SessionFsSqliteResult]:
        """Run ``statements`` on the session's SQLite database atomically; one result each."""
        import sqlite3

        connection = self._connect()
        try:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise SessionFsSqliteError(str(exc), _sqlite_error_class(exc)) from exc
            try:
                results: list[SessionFsSqliteResult] = []
                for statement in statements:
                    if not is_mapping(statement):
                        raise TypeError("each statement must be an object with query and queryType")
                    results.append(
                        _run_statement(
                            connection,
                            statement.get("queryType"),
                            statement.get("query"),
                            statement.get("params"),
                            script=False,
                        )
                    )
                connection.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise SessionFsSqliteError(str(exc), _sqlite_error_class(exc)) from exc
                raise
            return results
        finally:
            connection.close()


def _sqlite_error_class(exc: BaseException) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED
        return "busyOrLocked"
    text = str(exc).lower()
    return "busyOrLocked" if "locked" in text or "busy" in text else "fatal"


def _bind(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not is_mapping(params):
        raise TypeError("SQL params must be an object of named parameters")
    bound: dict[str, Any] = {}
    for key, value in params.items():
        name = key[1:] if isinstance(key, str) and key[:1] in (":", "@", "$") else key
        if isinstance(value, bool):
            value = int(value)
        elif value is not None and not isinstance(value, (int, float, str)):
            raise TypeError(
                f"SQL parameter {key!r} must be a string, number, boolean or null, not {type(value).__name__}"
            )
        bound[name] = value
    return bound


def _json_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        blob = cast("bytes | bytearray | memoryview[int]", value)
        return base64.b64encode(bytes(blob)).decode("ascii")
    return value


def _run_statement(
    connection: Any, query_type: Any, query: Any, params: Any, *, script: bool = True
) -> SessionFsSqliteResult:
    if query_type not in QUERY_TYPES:
        raise ValueError(f"queryType must be one of {', '.join(QUERY_TYPES)}, not {query_type!r}")
    if not isinstance(query, str):
        raise TypeError("query must be a string")
    bound = _bind(params)
    if query_type == "exec" and script and not bound:
        connection.executescript(query)
        return SessionFsSqliteResult()
    cursor = connection.execute(query, bound)
    try:
        if query_type == "query":
            columns = [column[0] for column in cursor.description or ()]
            rows = [
                {name: _json_value(value) for name, value in zip(columns, row, strict=True)}
                for row in cursor.fetchall()
            ]
            return SessionFsSqliteResult(columns=columns, rows=rows)
        cursor.fetchall()
        if query_type == "run":
            return SessionFsSqliteResult(
                rows_affected=max(cursor.rowcount, 0), last_insert_rowid=cursor.lastrowid
            )
        return SessionFsSqliteResult()
    finally:
        cursor.close()
