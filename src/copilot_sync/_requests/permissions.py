"""Permission requests from the CLI and the decisions sent back.

The handler given as ``on_permission_request`` is called as ``handler(request,
invocation)`` on a worker thread, where ``request`` is a :class:`PermissionRequest`
(snake_case attributes over the wire's camelCase object) of the class of its kind
(:class:`ShellPermissionRequest`, :class:`ReadPermissionRequest`... with typed fields;
``permission_kinds.py``) and ``invocation`` is a dict with ``"session_id"`` (and
``"prompt_request"`` when the CLI sent one). It returns a
:class:`PermissionRequestResult`, a kind string, or a dict with a ``"kind"``.

Only the kinds the CLI 1.0.81 accepts go on the wire; older names from earlier SDKs are
mapped to them. ``"no-result"`` sends nothing, leaving the decision to another client.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._fields import is_mapping
from .permission_kinds import PermissionRequest, WireObject, snake_case

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = [
    "PermissionDecision",
    "PermissionHandler",
    "PermissionRequest",
    "PermissionRequestResult",
    "WireObject",
    "decision_to_wire",
]

logger = logging.getLogger("copilot_sync.permissions")

#: The decision kinds the CLI accepts (observed on 1.0.81), plus "no-result".
WIRE_KINDS = (
    "approve-once",
    "approve-for-session",
    "approve-for-location",
    "reject",
    "user-not-available",
)
#: Kinds newer CLIs accept: 1.0.92 added ``approve-read-only-for-session {directories}``
#: for the path-access prompt (``promptRequest.kind == "path"``; docs/CLI_VERSIONS.md).
NEWER_WIRE_KINDS = ("approve-read-only-for-session",)
NO_RESULT = "no-result"

#: Names used by earlier SDKs and by the schema's "completed" vocabulary.
_OLD_KINDS = {
    "approved": "approve-once",
    "approve": "approve-once",
    "approved-for-session": "approve-for-session",
    "approve-permanently": "approve-for-session",
    "approved-for-location": "approve-for-location",
    "denied": "reject",
    "deny": "reject",
    "rejected": "reject",
    "denied-interactively-by-user": "reject",
    "denied-by-rules": "reject",
    "denied-by-content-exclusion-policy": "reject",
    "denied-by-permission-request-hook": "reject",
    "cancelled": "reject",
    "denied-no-approval-rule-and-could-not-request-from-user": "user-not-available",
}


@dataclasses.dataclass
class PermissionRequestResult:
    """A decision on a permission request.

    ``kind`` is one of ``approve-once``, ``approve-for-session``, ``approve-for-location``,
    ``reject``, ``user-not-available``, or ``no-result`` (send nothing: another client
    decides). Older names (``approved``, ``denied-interactively-by-user``...) are mapped.
    ``approve-for-session`` without ``approval`` remembers the approval for what was
    asked (this tool, these commands, reads, writes...), so the CLI does not ask again.

    Newer CLIs add kinds: ``approve-read-only-for-session`` (CLI 1.0.92 and later, only for
    a path-access prompt) takes ``directories``, chosen from the request's
    ``readOnlyDirectories``. Another kind raises ``ValueError`` (a handler returning one
    denies with ``user-not-available`` and is logged: the CLI would fail the tool on a kind
    it does not know).
    """

    kind: str = "approve-once"
    feedback: str | None = None
    approval: dict[str, Any] | None = None
    location_key: str | None = None
    domain: str | None = None
    approved_interactively: bool | None = None
    #: Sent beside the decision as ``decisionContext`` (outcome, source, surface).
    decision_context: dict[str, Any] | None = None
    #: For ``approve-read-only-for-session``: the directories to allow reading in.
    directories: list[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str):
            raise TypeError(f"kind must be a string, not {type(self.kind).__name__}")
        kind = _OLD_KINDS.get(self.kind, self.kind)
        if kind not in WIRE_KINDS and kind not in NEWER_WIRE_KINDS and kind != NO_RESULT:
            raise ValueError(
                f"unknown permission decision {self.kind!r}; use one of "
                f"{', '.join(WIRE_KINDS + NEWER_WIRE_KINDS)} or {NO_RESULT!r}"
            )
        if self.directories is not None:
            if isinstance(self.directories, str) or not all(
                isinstance(d, str) for d in self.directories
            ):
                raise TypeError("directories must be a list of directory paths (strings)")
            self.directories = list(self.directories)
        if kind == "approve-read-only-for-session" and not self.directories:
            raise ValueError(
                "approve-read-only-for-session needs directories=[...], taken from the request's readOnlyDirectories"
            )
        self.kind = kind

    def to_wire(self, request: PermissionRequest | None = None) -> dict[str, Any]:
        """The ``result`` object of ``session.permissions.handlePendingPermissionRequest``."""
        wire: dict[str, Any] = {"kind": self.kind}
        if self.kind == "reject" and self.feedback is not None:
            wire["feedback"] = self.feedback
        if self.kind in ("approve-for-session", "approve-for-location"):
            approval = self.approval if self.approval is not None else _approval_for(request)
            if approval is not None:
                wire["approval"] = approval
            if self.kind == "approve-for-location" and self.location_key is not None:
                wire["locationKey"] = self.location_key
            if self.domain is not None:
                wire["domain"] = self.domain
        if self.kind == "approve-once" and self.approved_interactively is not None:
            wire["approvedInteractively"] = bool(self.approved_interactively)
        if self.directories is not None:
            wire["directories"] = list(self.directories)
        return wire


def _approval_for(request: PermissionRequest | None) -> dict[str, Any] | None:
    """What an ``approve-for-session`` should remember for this request."""
    if request is None:
        return None
    data = request.to_dict()
    kind = data.get("kind")
    if kind == "custom-tool" and data.get("toolName"):
        return {"kind": "custom-tool", "toolName": data["toolName"]}
    if kind == "shell":
        commands: list[Any] = data.get("commands") or []
        identifiers = [c.get("identifier") for c in commands if is_mapping(c)]
        identifiers = [i for i in identifiers if isinstance(i, str)]
        return {"kind": "commands", "commandIdentifiers": identifiers} if identifiers else None
    if kind in ("read", "write", "memory"):
        return {"kind": kind}
    if kind == "mcp" and data.get("serverName"):
        return {"kind": "mcp", "serverName": data["serverName"], "toolName": data.get("toolName")}
    return None


PermissionDecision = PermissionRequestResult | str | Mapping[str, Any] | None
PermissionHandlerFn = Callable[[PermissionRequest, dict[str, Any]], PermissionDecision]


def coerce_decision(value: Any) -> PermissionRequestResult:
    """What a handler returned, as a :class:`PermissionRequestResult`. ``TypeError`` or
    ``ValueError`` when it is not a decision."""
    if isinstance(value, PermissionRequestResult):
        return value
    if isinstance(value, str):
        return PermissionRequestResult(kind=value)
    if is_mapping(value):
        fields = {snake_case(key): item for key, item in value.items()}
        known = {f.name for f in dataclasses.fields(PermissionRequestResult)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"unknown permission decision field {unknown[0]!r}")
        return PermissionRequestResult(**fields)
    kind = getattr(value, "kind", None)  # decision objects of other SDKs (kind attribute)
    if isinstance(kind, str):
        return PermissionRequestResult(kind=kind, feedback=getattr(value, "feedback", None))
    raise TypeError(
        f"a permission handler must return a PermissionRequestResult or a kind string, not {value!r}"
    )


def decision_to_wire(value: Any, request: PermissionRequest | None) -> dict[str, Any] | None:
    """The params to send (``result`` and maybe ``decisionContext``), or ``None`` for "no-result"."""
    decision = coerce_decision(value)
    if decision.kind == NO_RESULT:
        return None
    params: dict[str, Any] = {"result": decision.to_wire(request)}
    if decision.decision_context is not None:
        params["decisionContext"] = dict(decision.decision_context)
    return params


class PermissionHandler:
    """Ready-made permission handlers: ``on_permission_request=PermissionHandler.approve_all``."""

    @staticmethod
    def approve_all(
        request: PermissionRequest, invocation: Mapping[str, Any]
    ) -> PermissionRequestResult:
        """Approve every request once, except those that need a managed approval (left to another client)."""
        if getattr(request, "managed_approval_required", None) is True:
            return PermissionRequestResult(kind=NO_RESULT)
        return PermissionRequestResult(kind="approve-once")

    @staticmethod
    def deny_all(
        request: PermissionRequest, invocation: Mapping[str, Any]
    ) -> PermissionRequestResult:
        """Reject every request; the model is told the user declined."""
        return PermissionRequestResult(
            kind="reject", feedback="Denied by the application's permission policy."
        )


# ---------------------------------------------------------------------------- permission.requested

_session_logger = logging.getLogger("copilot_sync.session")
_PERMISSION_UNREQUESTABLE = "could not request permission"


class MissingPermissionHandlerWarning(UserWarning):
    """A tool was denied because the session has no ``on_permission_request`` handler."""


def on_requested(
    context: RequestContext, raw: Mapping[str, Any], data: dict[str, Any], request_id: str
) -> None:
    """Event thread: the CLI asks whether a tool may run; ask the session's handler."""
    handler = context.permission_handler
    if (
        handler is None
        or data.get("resolvedByHook")
        or not isinstance(data.get("permissionRequest"), dict)
    ):
        return
    if context.take(request_id, "permission.requested"):
        context.submit("permission", answer, context, handler, data)


def answer(context: RequestContext, handler: Callable[..., Any], data: dict[str, Any]) -> None:
    """Worker: the handler's decision, sent with ``session.permissions.handlePendingPermissionRequest``."""
    request_id = data["requestId"]
    request = PermissionRequest.from_wire(data["permissionRequest"])
    invocation: dict[str, Any] = {"session_id": context.session_id}
    if isinstance(data.get("promptRequest"), dict):
        invocation["prompt_request"] = data["promptRequest"]
    try:
        params = decision_to_wire(handler(request, invocation), request)
    except BaseException:  # even SystemExit: the CLI must get an answer
        _session_logger.exception(
            "session %s: permission handler failed on a %s request; answering user-not-available",
            context.session_id,
            request.kind,
        )
        params = {"result": {"kind": "user-not-available"}}
    if params is None:  # "no-result": another client decides
        context.finish(request_id)
        return
    context.send_answer("session.permissions.handlePendingPermissionRequest", request_id, params)


def notice_denial(context: RequestContext, data: Mapping[str, Any]) -> None:
    """Event thread (``tool.execution_complete``): warn once if a tool was denied for want of a handler."""
    if data.get("success") is not False or context.permission_handler is not None:
        return
    error = data.get("error")
    message = error.get("message") if is_mapping(error) else error
    if (
        isinstance(message, str)
        and _PERMISSION_UNREQUESTABLE in message
        and not context.denial_warned
    ):
        context.denial_warned = True
        text = (
            f"session {context.session_id}: the CLI denied a tool call because this session has no "
            f"on_permission_request handler ({message}). Pass "
            "on_permission_request=PermissionHandler.approve_all, or your own handler, to "
            "create_session()/resume_session(), or define the tool with skip_permission=True."
        )
        _session_logger.warning("%s", text)
        warnings.warn(text, MissingPermissionHandlerWarning, stacklevel=1)
