""":class:`SessionFsAdapter`: turns the CLI's ``sessionFs.*`` requests into
:class:`SessionFsHandler` calls, and handler results and exceptions into the wire results
of CLI 1.0.81 (see :mod:`._session_fs` for the observed wire facts)."""

from __future__ import annotations

import base64
import binascii
import errno
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, cast

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._logging import redact
from .._wire.connection import METHOD_NOT_FOUND
from .session_fs import (
    EPOCH,
    INVALID_PARAMS,
    SessionFsConfig,
    SessionFsEntry,
    SessionFsHandler,
    SessionFsSqliteError,
    SessionFsSqliteResult,
    SessionFsStat,
    no_handler_error,
)

if TYPE_CHECKING:
    from .._session import CopilotSession
    from .protocol import RequestContext

__all__ = ["SessionFsAdapter", "session_fs_adapter"]

logger = logging.getLogger("copilot_sync.session_fs")


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _error(exc: BaseException) -> dict[str, str]:
    """The schema's ``SessionFsError`` for an exception: ``ENOENT`` or ``UNKNOWN``."""
    number = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if isinstance(exc, FileNotFoundError) or number == errno.ENOENT:
        code = "ENOENT"
    else:
        code = "UNKNOWN"
    if isinstance(exc, OSError) and isinstance(number, int):
        name = errno.errorcode.get(number, f"E{number}")
        text = exc.strerror or os.strerror(number)
        message = f"{name}: {text}"
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return {"code": code, "message": redact(message)}


def _wire_time(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = _utc(float(value))
    else:
        raise TypeError(
            f"stat times must be datetimes or epoch seconds, not {type(value).__name__}"
        )
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _stat_wire(info: Any) -> dict[str, Any]:
    if not isinstance(info, SessionFsStat):
        raise TypeError(f"stat() must return a SessionFsStat, not {type(info).__name__}")
    size = info.size
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise TypeError(f"stat() size must be a non-negative int, not {size!r}")
    return {
        "isFile": bool(info.is_file),
        "isDirectory": bool(info.is_directory),
        "size": size,
        "mtime": _wire_time(info.mtime),
        "birthtime": _wire_time(info.birthtime),
    }


def _entry_wire(entry: Any) -> dict[str, str]:
    name: Any
    kind: Any
    if isinstance(entry, SessionFsEntry):
        name, kind = entry.name, entry.type
    elif is_mapping(entry):
        name, kind = entry.get("name"), entry.get("type")
    elif isinstance(entry, tuple) and len(cast("tuple[Any, ...]", entry)) == 2:
        name, kind = cast("tuple[Any, Any]", entry)
    else:
        raise TypeError(
            f"readdir_with_types() entries must be SessionFsEntry, not {type(cast(object, entry)).__name__}"
        )
    if not isinstance(name, str) or kind not in ("file", "directory"):
        raise TypeError(
            f"bad directory entry {entry!r}: needs a name and type 'file' or 'directory'"
        )
    return {"name": name, "type": kind}


def _names(entries: Any) -> list[str]:
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
        raise TypeError(f"readdir() must return a list of names, not {type(entries).__name__}")
    names = cast("Sequence[Any]", entries)
    if not all(isinstance(name, str) for name in names):
        raise TypeError("readdir() must return a list of strings")
    return list(names)


def _text(content: Any) -> str:
    if isinstance(content, (bytes, bytearray)):
        return bytes(content).decode("utf-8", errors="replace")
    if not isinstance(content, str):
        raise TypeError(f"read_file() must return a string, not {type(content).__name__}")
    return content


def _sqlite_wire(result: Any) -> dict[str, Any]:
    if result is None:
        return SessionFsSqliteResult().to_wire()
    if not isinstance(result, SessionFsSqliteResult):
        raise TypeError(
            f"SQLite methods must return SessionFsSqliteResult, not {type(result).__name__}"
        )
    return result.to_wire()


def _param(
    params: Mapping[str, Any],
    name: str,
    kind: type | tuple[type, ...],
    method: str,
    *,
    required: bool = True,
) -> Any:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise JsonRpcError(
            INVALID_PARAMS,
            f"Invalid params for {method}: '{name}' is missing or has the wrong type",
        )
    return value


class SessionFsAdapter:
    """Answers one session's ``sessionFs.*`` requests with its :class:`SessionFsHandler`."""

    def __init__(self, handler: SessionFsHandler, session_id: str = "") -> None:
        self.handler = handler
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"<SessionFsAdapter {self.handler!r}>"

    def answer(self, method: str, params: Mapping[str, Any]) -> Any:
        """The JSON result for ``sessionFs.<op>``; ``JsonRpcError`` only for an unknown
        method or malformed params. Handler exceptions become error results."""
        op = method.partition(".")[2] if method.startswith("sessionFs.") else method
        answer = self._OPS.get(op)
        if answer is None:
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        if not is_mapping(params):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params for {method}: expected an object")
        return answer(self, method, params)

    def _failed(self, method: str, target: Any, exc: BaseException) -> dict[str, str]:
        error = _error(exc)
        level = logging.DEBUG if error["code"] == "ENOENT" else logging.WARNING
        logger.log(
            level, "session %s: %s %r failed: %s", self.session_id, method, target, error["message"]
        )
        return error

    def _void(self, method: str, call: Callable[[], Any], target: Any) -> Any:
        try:
            call()
        except BaseException as exc:
            return self._failed(method, target, exc)
        return None  # the CLI wants null on success ({} fails to decode)

    def _read_file(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        path = _param(params, "path", str, method)
        try:
            return {"content": _text(self.handler.read_file(path))}
        except BaseException as exc:
            return {"content": "", "error": self._failed(method, path, exc)}

    def _write_file(self, method: str, params: Mapping[str, Any]) -> Any:
        path = _param(params, "path", str, method)
        content = _param(params, "content", str, method)
        mode = _param(params, "mode", int, method, required=False)
        writer = (
            self.handler.append_file if method.endswith("appendFile") else self.handler.write_file
        )
        return self._void(method, lambda: writer(path, content, mode), path)

    def _exists(self, method: str, params: Mapping[str, Any]) -> dict[str, bool]:
        path = _param(params, "path", str, method)
        try:
            found = self.handler.exists(path)
        except BaseException as exc:
            self._failed(method, path, exc)
            return {"exists": False}
        return {"exists": bool(found)}

    def _stat(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        path = _param(params, "path", str, method)
        try:
            return _stat_wire(self.handler.stat(path))
        except BaseException as exc:
            error = self._failed(method, path, exc)
            return {
                "isFile": False,
                "isDirectory": False,
                "size": 0,
                "mtime": EPOCH,
                "birthtime": EPOCH,
                "error": error,
            }

    def _mkdir(self, method: str, params: Mapping[str, Any]) -> Any:
        path = _param(params, "path", str, method)
        recursive = bool(params.get("recursive"))
        mode = _param(params, "mode", int, method, required=False)
        return self._void(method, lambda: self.handler.mkdir(path, recursive, mode), path)

    def _readdir(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        path = _param(params, "path", str, method)
        try:
            if method.endswith("WithTypes"):
                return {
                    "entries": [
                        _entry_wire(entry) for entry in self.handler.readdir_with_types(path)
                    ]
                }
            return {"entries": _names(self.handler.readdir(path))}
        except BaseException as exc:
            return {"entries": [], "error": self._failed(method, path, exc)}

    def _rm(self, method: str, params: Mapping[str, Any]) -> Any:
        path = _param(params, "path", str, method)
        recursive, force = bool(params.get("recursive")), bool(params.get("force"))
        return self._void(method, lambda: self.handler.rm(path, recursive, force), path)

    def _rename(self, method: str, params: Mapping[str, Any]) -> Any:
        src = _param(params, "src", str, method)
        dest = _param(params, "dest", str, method)
        return self._void(method, lambda: self.handler.rename(src, dest), src)

    def _sqlite_query(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        query = _param(params, "query", str, method)
        query_type = _param(params, "queryType", str, method)
        bind = params.get("params")
        try:
            return _sqlite_wire(self.handler.sqlite_query(query_type, query, bind))
        except BaseException as exc:
            return {
                "rows": [],
                "columns": [],
                "rowsAffected": 0,
                "error": self._failed(method, query_type, exc),
            }

    def _sqlite_transaction(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        statements = _param(params, "statements", list, method)
        try:
            results = self.handler.sqlite_transaction(statements)
            wire = [_sqlite_wire(result) for result in results]
            if len(wire) != len(statements):
                raise SessionFsSqliteError(
                    f"the handler returned {len(wire)} results for {len(statements)} statements"
                )
        except BaseException as exc:
            error_class = exc.error_class if isinstance(exc, SessionFsSqliteError) else "fatal"
            message = str(exc) or type(exc).__name__
            logger.warning(
                "session %s: %s failed (%s): %s", self.session_id, method, error_class, message
            )
            return {"results": [], "error": {"errorClass": error_class, "message": message}}
        return {"results": wire}

    def _sqlite_exists(self, method: str, params: Mapping[str, Any]) -> dict[str, bool]:
        try:
            return {"exists": bool(self.handler.sqlite_exists())}
        except BaseException as exc:
            self._failed(method, None, exc)
            return {"exists": False}

    def _read_file_bytes(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        path = _param(params, "path", str, method)
        try:
            data = self.handler.read_file_bytes(path)
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"read_file_bytes() must return bytes, not {type(data).__name__}")
            return {"content": base64.b64encode(bytes(data)).decode("ascii")}
        except BaseException as exc:
            return {"content": "", "error": self._failed(method, path, exc)}

    def _write_file_bytes(self, method: str, params: Mapping[str, Any]) -> Any:
        path = _param(params, "path", str, method)
        encoded = _param(params, "content", str, method)
        mode = _param(params, "mode", int, method, required=False)
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise JsonRpcError(
                INVALID_PARAMS, f"Invalid params for {method}: 'content' is not base64"
            ) from None
        return self._void(method, lambda: self.handler.write_file_bytes(path, content, mode), path)

    _OPS: ClassVar[dict[str, Callable[[SessionFsAdapter, str, Mapping[str, Any]], Any]]] = {
        "readFile": _read_file,
        "readFileBytes": _read_file_bytes,
        "writeFileBytes": _write_file_bytes,
        "writeFile": _write_file,
        "appendFile": _write_file,
        "exists": _exists,
        "stat": _stat,
        "mkdir": _mkdir,
        "readdir": _readdir,
        "readdirWithTypes": _readdir,
        "rm": _rm,
        "rename": _rename,
        "sqliteQuery": _sqlite_query,
        "sqliteTransaction": _sqlite_transaction,
        "sqliteExists": _sqlite_exists,
    }


def session_fs_adapter(
    session: CopilotSession, factory: Any, config: SessionFsConfig
) -> SessionFsAdapter:
    """Build a session's handler with its factory (at create/resume, before the RPC)."""
    handler = factory(session)
    if not isinstance(handler, SessionFsHandler):
        raise TypeError(
            "create_session_fs_handler must return a SessionFsHandler (e.g. LocalSessionFs(directory)), "
            f"not {type(handler).__name__}"
        )
    if config.sqlite and not handler.supports_sqlite:
        raise TypeError(
            f"session_fs declares sqlite=True, but {type(handler).__name__} does not implement sqlite_query(); "
            "implement the SQLite methods or use SessionFsConfig(sqlite=False)"
        )
    return SessionFsAdapter(handler, session.session_id)


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> Any:
    """``sessionFs.*``: the session's filesystem handler answers (via its adapter)."""
    if context.session_fs is None:
        raise no_handler_error(context.session_id, method)
    return context.session_fs.answer(method, params)
