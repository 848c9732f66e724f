"""Canvases: panels a session contributes, which the agent opens and drives (experimental).

A session created with ``canvases=[CanvasDeclaration(...)]`` declares them to the CLI; with
``request_canvas_renderer=True`` the model also gets the CLI's canvas tools
(``list_canvas_capabilities``, ``open_canvas``, ``invoke_canvas_action``). When the agent opens
a canvas, closes one or invokes one of its actions, the CLI asks this client with
``canvas.open`` / ``canvas.close`` / ``canvas.action.invoke``; the session's
``canvas_handler`` (a :class:`CanvasHandler`) answers on the worker pool, like every handler.

A handler that raises :class:`CanvasError` has its code and message sent to the CLI as the
error's data. Any other exception is logged here with its traceback and answered with the
generic ``canvas_handler_error``, never with the exception's text (it may hold a path or a
secret). A canvas request for a session without a handler is answered
``canvas_handler_unset``.

The session keeps the canvases open in it, from the ``session.canvas.opened`` /
``session.canvas.closed`` events and the resume result (:class:`OpenCanvasTracker`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._wire.connection import INTERNAL_ERROR
from .tools import ToolResult, to_json_text

if TYPE_CHECKING:
    from ..generated.rpc import OpenCanvasInstance
    from .protocol import RequestContext

__all__ = [
    "ACTION",
    "CLOSE",
    "OPEN",
    "CanvasAction",
    "CanvasActionRequest",
    "CanvasCloseRequest",
    "CanvasDeclaration",
    "CanvasError",
    "CanvasHandler",
    "CanvasOpenRequest",
    "CanvasOpenResult",
    "CanvasProviderIdentity",
    "CanvasRequest",
    "ExtensionInfo",
    "OpenCanvasTracker",
    "answer",
    "canvases_to_wire",
    "check_canvas_handler",
    "identity_to_wire",
    "open_canvases_to_wire",
]

OPEN = "canvas.open"
CLOSE = "canvas.close"
ACTION = "canvas.action.invoke"

logger = logging.getLogger("copilot_sync.session")


# ---------------------------------------------------------------- declarations


@dataclasses.dataclass(frozen=True)
class CanvasAction:
    """An action of a canvas that the agent may invoke (``invoke_canvas_action``).

    ``name`` must not start with ``canvas.`` (the CLI keeps that prefix for the lifecycle);
    ``input_schema`` is the JSON Schema of the action's ``input``.
    """

    name: str
    description: str | None = None
    input_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a canvas action needs a non-empty name")
        if self.name.startswith("canvas."):
            raise ValueError(f"canvas action {self.name!r}: the 'canvas.' prefix is reserved")

    def to_wire(self) -> dict[str, Any]:
        """The action as the CLI takes it (``inputSchema``; unset fields left out)."""
        wire: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            wire["description"] = self.description
        if self.input_schema is not None:
            wire["inputSchema"] = dict(self.input_schema)
        return wire


@dataclasses.dataclass(frozen=True)
class CanvasDeclaration:
    """A canvas this session contributes: sent with ``session.create``/``session.resume``.

    ``id`` is unique within the session; ``display_name`` is shown in the host's UI and
    ``description`` to the agent in its canvas catalog. ``input_schema`` is the JSON Schema
    of the ``input`` that opening the canvas takes; ``actions`` are what the agent may do
    with an open one.
    """

    id: str
    display_name: str
    description: str
    input_schema: Mapping[str, Any] | None = None
    actions: tuple[CanvasAction, ...] | list[CanvasAction] | None = None

    def __post_init__(self) -> None:
        for name in ("id", "display_name", "description"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"a canvas declaration needs a non-empty string {name}")
        twice = _duplicate(action.name for action in self.actions or ())
        if twice is not None:
            raise ValueError(f"canvas {self.id!r} has two actions named {twice!r}")

    def to_wire(self) -> dict[str, Any]:
        """The declaration as the CLI takes it (camelCase; unset fields left out)."""
        wire: dict[str, Any] = {
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
        }
        if self.input_schema is not None:
            wire["inputSchema"] = dict(self.input_schema)
        if self.actions is not None:
            wire["actions"] = [action.to_wire() for action in self.actions]
        return wire


@dataclasses.dataclass(frozen=True)
class ExtensionInfo:
    """A stable extension identity (``source``, ``name``) for a session that provides
    canvases: the CLI names the provider ``"<source>:<name>"`` instead of an id that
    changes with every connection."""

    source: str
    name: str

    def to_wire(self) -> dict[str, Any]:
        """``{"source": ..., "name": ...}``."""
        return {"source": self.source, "name": self.name}


@dataclasses.dataclass(frozen=True)
class CanvasProviderIdentity:
    """A stable id for a host that supplies built-in canvases, so that canvases declared
    on this connection survive a reconnect or a CLI restart (``"app:builtin:window-1"``)."""

    id: str
    name: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """``{"id": ...}`` with ``"name"`` when set."""
        wire: dict[str, Any] = {"id": self.id}
        if self.name is not None:
            wire["name"] = self.name
        return wire


_DECLARATION_KEYS = {
    "id": "id",
    "display_name": "displayName",
    "displayName": "displayName",
    "description": "description",
    "input_schema": "inputSchema",
    "inputSchema": "inputSchema",
    "actions": "actions",
}
_ACTION_KEYS = {
    "name": "name",
    "description": "description",
    "input_schema": "inputSchema",
    "inputSchema": "inputSchema",
}


def _duplicate(names: Iterable[str]) -> str | None:
    """The first name that comes twice, or None."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _from_mapping(value: Mapping[str, Any], keys: Mapping[str, str], what: str) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    for key, item in value.items():
        field = keys.get(key)
        if field is None:
            raise TypeError(f"{what} has no key {key!r}; it takes {', '.join(sorted(set(keys)))}")
        if item is not None:
            wire[field] = item
    return wire


def _as_action(action: Any) -> CanvasAction:
    if isinstance(action, CanvasAction):
        return action
    if is_mapping(action):
        wire = _from_mapping(action, _ACTION_KEYS, "a canvas action")
        return CanvasAction(wire.get("name", ""), wire.get("description"), wire.get("inputSchema"))
    raise TypeError(
        f"a canvas action must be a CanvasAction or a dict, not {type(action).__name__}"
    )


def _declaration_to_wire(value: Any) -> dict[str, Any]:
    if isinstance(value, CanvasDeclaration):
        return value.to_wire()
    if not is_mapping(value):
        raise TypeError(
            f"canvases takes CanvasDeclaration objects or dicts, not {type(value).__name__}"
        )
    wire = _from_mapping(value, _DECLARATION_KEYS, "a canvas declaration")
    given: Any = wire.get("actions")
    actions: list[CanvasAction] | None = None
    if given is not None:
        if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
            raise TypeError("a canvas declaration's actions must be a list")
        actions = [_as_action(a) for a in cast("Iterable[Any]", given)]
    return CanvasDeclaration(
        wire.get("id", ""), wire.get("displayName", ""), wire.get("description", ""),
        wire.get("inputSchema"), actions,
    ).to_wire()  # fmt: skip


def canvases_to_wire(value: Any) -> list[dict[str, Any]]:
    """The ``canvases`` option on the wire; ``TypeError``/``ValueError`` for a bad one."""
    if isinstance(value, (str, bytes)) or is_mapping(value) or not isinstance(value, Iterable):
        raise TypeError(f"canvases must be a list, not {type(value).__name__}")
    wire = [_declaration_to_wire(item) for item in cast("Iterable[Any]", value)]
    twice = _duplicate(item["id"] for item in wire)
    if twice is not None:
        raise ValueError(f"two canvases have the id {twice!r}")
    return wire


def identity_to_wire(option: str, cls: type[Any], keys: tuple[str, ...]) -> Any:
    """A converter for ``extension_info``/``canvas_provider``: the dataclass or a dict."""

    def convert(value: Any) -> dict[str, Any]:
        if isinstance(value, cls):
            wire: dict[str, Any] = value.to_wire()
            return wire
        if not is_mapping(value):
            raise TypeError(f"{option} must be a {cls.__name__} or a dict, not {type(value).__name__}")  # fmt: skip
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise TypeError(f"{option} has no key {unknown[0]!r}; it takes {', '.join(keys)}")
        try:
            built = cls(**value)
        except TypeError as exc:
            raise TypeError(f"{option}: {exc}") from None
        result: dict[str, Any] = built.to_wire()
        return result

    return convert


def open_canvases_to_wire(value: Any) -> list[dict[str, Any]]:
    """The ``open_canvases`` resume option on the wire (``OpenCanvasInstance`` or dicts)."""
    if isinstance(value, (str, bytes)) or is_mapping(value) or not isinstance(value, Iterable):
        raise TypeError(f"open_canvases must be a list, not {type(value).__name__}")
    from ..generated.rpc import OpenCanvasInstance  # loaded on first use (it is large)

    wire: list[dict[str, Any]] = []
    for item in cast("Iterable[Any]", value):
        if isinstance(item, OpenCanvasInstance):
            wire.append(item.to_dict())
        elif is_mapping(item):
            wire.append(OpenCanvasInstance.from_dict(_camel_instance(item)).to_dict())
        else:
            raise TypeError(
                f"open_canvases takes OpenCanvasInstance objects or dicts, not {type(item).__name__}"
            )
    return wire


def _camel_instance(item: Mapping[str, Any]) -> dict[str, Any]:
    from ..generated.rpc import OpenCanvasInstance

    names = OpenCanvasInstance.wire_names()
    return {names.get(key, key): value for key, value in item.items()}


# ---------------------------------------------------------------- requests


@dataclasses.dataclass(frozen=True)
class CanvasRequest:
    """What every canvas request names: the session, the provider (``extension_id``), the
    declared canvas (``canvas_id``) and the open panel (``instance_id``, chosen by the agent).

    ``working_directory`` is the session's, when the CLI says it; ``host_renders_canvases``
    whether the host can render canvases (``None``: not said). ``raw`` holds the request's
    params as received.
    """

    session_id: str
    extension_id: str
    canvas_id: str
    instance_id: str
    working_directory: str | None
    host_renders_canvases: bool | None
    raw: Mapping[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class CanvasOpenRequest(CanvasRequest):
    """``canvas.open``: open a panel of the canvas (or focus it: an ``instance_id`` already
    open). ``input`` follows the declaration's ``input_schema`` (``None`` without one)."""

    input: Any = None


@dataclasses.dataclass(frozen=True)
class CanvasCloseRequest(CanvasRequest):
    """``canvas.close``: the user, the agent or the host closed the panel."""


@dataclasses.dataclass(frozen=True)
class CanvasActionRequest(CanvasRequest):
    """``canvas.action.invoke``: the agent invoked ``action_name`` on the open panel, with
    ``input`` following that action's ``input_schema``."""

    action_name: str = ""
    input: Any = None


@dataclasses.dataclass(frozen=True)
class CanvasOpenResult:
    """What opening a canvas gives the host: a ``url`` for a web-rendered canvas, a
    ``title`` and a ``status`` text (each optional)."""

    url: str | None = None
    title: str | None = None
    status: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The result with the unset fields left out."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


class CanvasError(Exception):
    """Raise it from a :class:`CanvasHandler` to fail a canvas request with a ``code`` and
    a ``message`` of your own (the CLI reports both; other exceptions are answered with the
    generic ``canvas_handler_error``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_data(self) -> dict[str, str]:
        """The error's data on the wire: ``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}


class CanvasHandler:
    """Answers the canvas requests of one session: subclass it and override
    :meth:`on_open` (and :meth:`on_close`, :meth:`on_action` as needed).

    One handler serves every canvas the session declares: switch on ``request.canvas_id``.
    Each method runs on the client's worker pool, so several may run at once; keep shared
    state behind a lock. A duck-typed object with the same methods works too.
    """

    def on_open(self, request: CanvasOpenRequest) -> CanvasOpenResult | Mapping[str, Any] | None:
        """Open (or focus) a panel; return its ``url``/``title``/``status`` (or ``None``)."""
        raise CanvasError("canvas_open_not_implemented", "this canvas handler cannot open canvases")

    def on_close(self, request: CanvasCloseRequest) -> None:
        """A panel was closed. The default does nothing."""

    def on_action(self, request: CanvasActionRequest) -> Any:
        """Run an action on an open panel; what it returns is the agent's tool result (a
        :class:`~copilot_sync.ToolResult`, a string, or JSON data). The default refuses
        with ``canvas_action_no_handler``."""
        raise CanvasError(
            "canvas_action_no_handler", "No handler implemented for this canvas action"
        )


def check_canvas_handler(handler: Any) -> None:
    """``TypeError`` unless ``handler`` has a callable ``on_open``."""
    if not callable(getattr(handler, "on_open", None)):
        raise TypeError(
            "canvas_handler must be a CanvasHandler (an object with on_open(request)), "
            f"not {type(handler).__name__}"
        )


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise JsonRpcError(-32602, f"a canvas request needs a string {key!r}")
    return value


def _request(method: str, params: dict[str, Any]) -> CanvasRequest:
    host: Any = params.get("host")
    capabilities: Any = host.get("capabilities") if is_mapping(host) else None
    renders: Any = capabilities.get("canvases") if is_mapping(capabilities) else None
    session: Any = params.get("session")
    directory: Any = session.get("workingDirectory") if is_mapping(session) else None
    common: dict[str, Any] = {
        "session_id": _text(params, "sessionId"),
        "extension_id": _text(params, "extensionId"),
        "canvas_id": _text(params, "canvasId"),
        "instance_id": _text(params, "instanceId"),
        "working_directory": directory if isinstance(directory, str) else None,
        "host_renders_canvases": renders if isinstance(renders, bool) else None,
        "raw": dict(params),
    }
    if method == OPEN:
        return CanvasOpenRequest(**common, input=params.get("input"))
    if method == CLOSE:
        return CanvasCloseRequest(**common)
    return CanvasActionRequest(**common, action_name=_text(params, "actionName"), input=params.get("input"))  # fmt: skip


def _open_result(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, CanvasOpenResult):
        return value.to_wire()
    if is_mapping(value):
        unknown = sorted(set(value) - {"url", "title", "status"})
        if unknown:
            raise TypeError(f"on_open() returned an unknown key {unknown[0]!r}")
        return CanvasOpenResult(**value).to_wire()
    raise TypeError(
        f"on_open() must return a CanvasOpenResult, a dict or None, not {type(value).__name__}"
    )


def _action_result(value: Any) -> Any:
    if isinstance(value, ToolResult):
        return value.to_wire()
    return json.loads(to_json_text(value))  # JSON data as is; dataclasses, enums... as JSON


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> Any:
    """Answer ``canvas.open`` / ``canvas.close`` / ``canvas.action.invoke`` with the
    session's ``canvas_handler`` (on a worker thread)."""
    handler = context.canvas_handler
    if handler is None:
        raise JsonRpcError(
            INTERNAL_ERROR,
            "no canvas handler is installed on this session",
            {"code": "canvas_handler_unset", "message": "create the session with canvas_handler="},
        )
    request = _request(method, params)
    operation = {OPEN: "on_open", CLOSE: "on_close", ACTION: "on_action"}[method]
    try:
        result = getattr(handler, operation)(request)
        if method == OPEN:
            return _open_result(result)
        if method == CLOSE:
            return None
        return _action_result(result)
    except CanvasError as exc:
        raise JsonRpcError(INTERNAL_ERROR, exc.message, exc.to_data()) from None
    except JsonRpcError:
        raise
    except Exception:
        logger.exception(
            "canvas_handler.%s() of session %s failed (canvas %r)",
            operation, context.session_id, request.canvas_id,
        )  # fmt: skip
        message = f"the canvas handler's {operation}() failed"
        raise JsonRpcError(
            INTERNAL_ERROR, message, {"code": "canvas_handler_error", "message": message}
        ) from None


# ---------------------------------------------------------------- open canvases


class OpenCanvasTracker:
    """The canvases open in one session: set from a resume result's ``openCanvases``, then
    kept by the ``session.canvas.opened`` / ``session.canvas.closed`` events (event thread)."""

    EVENTS = frozenset({"session.canvas.opened", "session.canvas.closed"})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, OpenCanvasInstance] = {}

    def snapshot(self) -> list[OpenCanvasInstance]:
        """The open canvases, oldest first."""
        with self._lock:
            return list(self._open.values())

    def replace(self, instances: Any) -> None:
        """Take a result's ``openCanvases`` list (anything else is ignored)."""
        if not isinstance(instances, list):
            return
        parsed = [self._parse(item) for item in cast("list[Any]", instances)]
        with self._lock:
            self._open = {i.instance_id: i for i in parsed if i is not None}

    def observe(self, event_type: str, data: Any) -> None:
        """Event thread: apply a ``session.canvas.opened``/``closed`` event's data."""
        if event_type == "session.canvas.opened":
            instance = self._parse(data)
            if instance is not None:
                with self._lock:
                    self._open[instance.instance_id] = instance
        elif is_mapping(data) and isinstance(data.get("instanceId"), str):
            with self._lock:
                self._open.pop(data["instanceId"], None)

    @staticmethod
    def _parse(data: Any) -> OpenCanvasInstance | None:
        if not is_mapping(data):
            return None
        from ..generated.rpc import OpenCanvasInstance

        try:
            return OpenCanvasInstance.from_dict(dict(data))
        except (TypeError, ValueError):
            logger.warning("skipped an open canvas the SDK cannot read: %.200r", data)
            return None
