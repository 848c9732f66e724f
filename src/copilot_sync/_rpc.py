"""The runtime behind the generated typed RPC (:mod:`copilot_sync.generated.rpc`).

``client.rpc`` and ``session.rpc`` import the generated module on first access, so a
program that never touches them never loads it. Each generated method calls
``self._call(wire_method, params, result_annotation, timeout)``; :class:`RpcCaller`
turns the params into wire JSON (``None`` values dropped, record classes and datetimes
converted), sends the request through the client (adding ``sessionId`` for a session),
and parses the answer with the same converters as the event payloads.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._fields import is_mapping, is_object
from ._records import converter, to_wire
from ._wire.timeouts import check_timeout

if TYPE_CHECKING:
    from .generated.rpc import ServerRpc, SessionRpc

__all__ = ["RpcCaller", "server_rpc", "session_rpc", "wire_of"]

_GENERATED = "copilot_sync.generated.rpc"
_SHELL_EXEC = "session.shell.exec"  # its output is routed to the session (see _requests/shell.py)


class _Api:  # pyright: ignore[reportUnusedClass]  (the generated namespaces' base)
    """Base of the generated namespace classes: holds the caller, nothing else."""

    __slots__ = ("_call",)
    _NAMESPACE = ""

    def __init__(self, call: RpcCaller) -> None:
        self._call = call

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._NAMESPACE}.* for {self._call.target}>"


class RpcCaller:
    """Sends one typed request: ``caller(method, params, result_annotation, timeout)``."""

    __slots__ = ("_send", "target")

    def __init__(
        self, send: Callable[[str, dict[str, Any], float | None], Any], target: str
    ) -> None:
        self._send = send
        self.target: str = target

    def __call__(self, method: str, params: Any, result: str, timeout: float | None) -> Any:
        _check_timeout(method, timeout)
        answer = self._send(method, _wire_params(method, params), timeout)
        if result == "None":
            return None
        accepted, convert = converter(result, vars(sys.modules[_GENERATED]))
        if answer is None or convert is None:
            return answer
        if accepted is not None and type(answer) not in accepted:
            return answer  # not what the schema says: hand it over as received
        return convert(answer)


def _check_timeout(method: str, timeout: Any) -> None:
    try:
        check_timeout(timeout)
    except ValueError as exc:
        raise ValueError(f"{method}: {exc}") from None


class _JsonNull:
    """Marks a param whose ``None`` is sent as an explicit JSON null (see ``_wire_params``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"


_JSON_NULL = _JsonNull()


def _null_if_none(value: Any) -> Any:  # pyright: ignore[reportUnusedFunction]  (generated code's)
    """Generated code, for a required param the schema allows to be null: ``None`` is sent."""
    return _JSON_NULL if value is None else value


def _wire_params(method: str, params: Any) -> dict[str, Any]:
    """The request params: mappings and record objects become wire dicts; ``None`` values are left out."""
    if params is None:
        return {}
    if hasattr(params, "to_dict") and not is_mapping(params):
        params = params.to_dict()
    if not is_mapping(params):
        raise TypeError(
            f"{method}: params must be a mapping or a record object, not {type(params).__name__}"
        )
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if value is _JSON_NULL:
            out[key] = None
            continue
        out[key] = to_wire(
            dict(value) if is_mapping(value) and not isinstance(value, dict) else value
        )
    return out


def wire_of(result: Any) -> Any:
    """The wire dict a typed result was parsed from (``result`` itself if it is not a record)."""
    raw = getattr(result, "raw", None)
    return raw if is_object(raw) else result


def server_rpc(request: Callable[..., Any]) -> ServerRpc:
    """``client.rpc``: ``request(method, params, timeout=...)`` is the client's request."""
    from .generated.rpc import ServerRpc

    def send(method: str, params: dict[str, Any], timeout: float | None) -> Any:
        return request(method, params, timeout=timeout)

    return ServerRpc(RpcCaller(send, "the client"))


def session_rpc(
    session_id: str, call: Callable[..., Any], claim_process: Callable[[Any], None]
) -> SessionRpc:
    """``session.rpc``: ``call(method, params, timeout=...)`` sends a request of the session
    (it adds ``sessionId``); ``claim_process(process_id)`` after ``shell.exec`` answered."""
    from .generated.rpc import SessionRpc

    def send(method: str, params: dict[str, Any], timeout: float | None) -> Any:
        result = call(method, params, timeout=timeout)
        if method == _SHELL_EXEC and is_object(result):
            claim_process(result.get("processId"))
        return result

    return SessionRpc(RpcCaller(send, f"session {session_id[:8]}"))
