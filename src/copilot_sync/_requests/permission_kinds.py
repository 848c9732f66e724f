"""What a permission request asks: one class per kind the CLI sends (docs/PERMISSIONS.md).

:class:`PermissionRequest` is a read-only view of the wire object (``request.tool_name``
and ``request["toolName"]`` both work). :meth:`PermissionRequest.from_wire` gives the
subclass of the request's ``kind``: :class:`ShellPermissionRequest` for ``"shell"``,
:class:`ReadPermissionRequest` for ``"read"``..., whose fields are typed attributes. A
kind this SDK does not know (a newer CLI's) stays a plain :class:`PermissionRequest`.

The fields are those of the CLI's ``permission.requested`` schema on 1.0.81 to 1.0.102;
every one reads as ``None`` when the CLI leaves it out (an older CLI may) or sends a value
of another type (logged at DEBUG on ``copilot_sync.permissions``), so a surprising request
never fails the handler before it runs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast, overload

from .._fields import is_array, is_mapping, snake_case

__all__ = [
    "PERMISSION_REQUEST_CLASSES",
    "CustomToolPermissionRequest",
    "ExtensionCapabilitiesPermissionRequest",
    "ExtensionEnvAccessPermissionRequest",
    "ExtensionManagementPermissionRequest",
    "FactoryPermissionRequest",
    "Field",
    "HookPermissionRequest",
    "McpPermissionRequest",
    "MemoryPermissionRequest",
    "PermissionRequest",
    "ReadPermissionRequest",
    "ShellCommand",
    "ShellCommandSegment",
    "ShellPermissionRequest",
    "ShellPossibleUrl",
    "UrlPermissionRequest",
    "WireObject",
    "WorkflowPermissionRequest",
    "WritePermissionRequest",
    "snake_case",
]

logger = logging.getLogger("copilot_sync.permissions")


class WireObject(Mapping[str, Any]):
    """A read-only view of a wire object: ``obj.full_command_text`` and
    ``obj["fullCommandText"]`` both work; nested objects are views too; ``to_dict()`` gives
    the original dict. A field the object does not carry reads as ``None`` when it is one
    of ``known`` (the fields of some kind of request), else raises ``AttributeError``."""

    __slots__ = ("_attrs", "_data", "_free_form", "_known")

    def __init__(
        self,
        data: Mapping[str, Any],
        known: frozenset[str] = frozenset(),
        free_form: frozenset[str] = frozenset(),
    ) -> None:
        self._data = dict(data)
        self._attrs = {snake_case(key): key for key in self._data if isinstance(key, str)}
        self._known = known
        self._free_form = (
            free_form  # wire keys whose values are the user's own data: given as they are
        )

    def __getattr__(self, name: str) -> Any:
        try:
            key = object.__getattribute__(self, "_attrs")[name]
        except KeyError:
            if name in object.__getattribute__(self, "_known"):
                return None
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None
        return self[key]

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return value if key in self._free_form else _wrap(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __dir__(self) -> list[str]:
        return sorted(set(self._attrs) | set(super().__dir__()))

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{attr}={self._data[key]!r}" for attr, key in list(self._attrs.items())[:8]
        )
        return f"{type(self).__name__}({fields})"


def _wrap(value: Any) -> Any:
    if is_mapping(value):
        return WireObject(value)
    if is_array(value):
        return [_wrap(item) for item in value]
    return value


# ---------------------------------------------------------------------------- typed fields

T = TypeVar("T")
_BAD: Any = object()  # what a converter returns for a value of the wrong type


class Field(Generic[T]):
    """A typed, read-only attribute of a wire object: the value of the wire key ``wire``,
    or ``None`` when it is missing, ``null`` or of another type."""

    def __init__(
        self, wire: str, convert: Callable[[Any], Any], doc: str, required: bool = False
    ) -> None:
        self.wire = wire
        self.convert = convert
        self.required = required  # the schema requires it: its absence is logged
        self.__doc__ = doc
        self.name: str = wire

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Field[T]: ...
    @overload
    def __get__(self, obj: WireObject, owner: type | None = None) -> T | None: ...
    def __get__(self, obj: WireObject | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj._data.get(self.wire)
        if value is None:
            return None
        converted = self.convert(value)
        return None if converted is _BAD else converted

    def __set__(self, obj: WireObject, value: Any) -> None:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only")

    def __repr__(self) -> str:
        return f"<field {self.name} ({self.wire})>"


def _str(value: Any) -> Any:
    return value if isinstance(value, str) else _BAD


def _bool(value: Any) -> Any:
    return value if isinstance(value, bool) else _BAD


def _int(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else _BAD


def _number(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _BAD


def _strings(value: Any) -> Any:
    return list(value) if is_array(value) and all(isinstance(i, str) for i in value) else _BAD


def _string_map(value: Any) -> Any:
    ok = is_mapping(value) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )
    return dict(value) if ok else _BAD


def _as_is(value: Any) -> Any:
    return value


def _view(value: Any) -> Any:
    return WireObject(value) if is_mapping(value) else _BAD


def _views(cls: Callable[[Mapping[str, Any]], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if is_array(value) and all(is_mapping(item) for item in value):
            return [cls(item) for item in value]
        return _BAD

    return convert


def text(wire: str, doc: str, *, required: bool = False) -> Field[str]:
    return Field(wire, _str, doc, required)


def flag(wire: str, doc: str, *, required: bool = False) -> Field[bool]:
    return Field(wire, _bool, doc, required)


def integer(wire: str, doc: str) -> Field[int]:
    return Field(wire, _int, doc)


def number(wire: str, doc: str) -> Field[float]:
    return Field(wire, _number, doc)


def texts(wire: str, doc: str, *, required: bool = False) -> Field[list[str]]:
    return Field(wire, _strings, doc, required)


def view(wire: str, doc: str) -> Field[WireObject]:
    return Field(wire, _view, doc)


def as_is(wire: str, doc: str) -> Field[Any]:
    return Field(wire, _as_is, doc)


@functools.cache
def _fields_of(cls: type) -> tuple[Field[Any], ...]:
    """The typed fields of a class, one per wire key (an alias such as ``command`` is skipped)."""
    found: dict[str, Field[Any]] = {}
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if isinstance(value, Field):
                found.setdefault(value.wire, cast("Field[Any]", value))
    return tuple(found.values())


def _problems(obj: WireObject, prefix: str = "") -> list[str]:
    """What of ``obj`` (and the typed views in it) cannot be read as typed."""
    found: list[str] = []
    data = obj.to_dict()
    for field in _fields_of(type(obj)):
        value = data.get(field.wire)
        if value is None:
            if field.required:
                found.append(f"{prefix}{field.wire} is missing")
        elif field.convert(value) is _BAD:
            found.append(f"{prefix}{field.wire} is a {type(value).__name__}")
        elif is_array(value):
            for index, item in enumerate(field.convert(value)):
                if isinstance(item, WireObject) and type(item) is not WireObject:
                    found.extend(_problems(item, f"{prefix}{field.wire}[{index}]."))
    return found


# ---------------------------------------------------------------------------- the base class

_REQUEST_FIELDS = frozenset(
    {
        "kind", "tool_call_id", "managed_approval_required", "full_command_text", "intention", "commands",
        "command_segments", "possible_paths", "possible_urls", "has_write_file_redirection",
        "can_offer_session_approval", "warning", "file_name", "diff", "new_file_contents", "path",
        "server_name", "tool_name", "tool_title", "args", "read_only", "url", "redirected_from", "fact",
        "action", "subject", "scope", "tool_description", "tool_args", "hook_message",
    }
)  # fmt: skip


#: A tool's own arguments and the like: plain dicts and lists, as the official SDK gives them.
_FREE_FORM = frozenset({"args", "toolArgs", "arguments", "metadata", "_meta"})


class PermissionRequest(WireObject):
    """What the CLI asks permission for: ``kind`` (``shell``, ``write``, ``read``, ``mcp``,
    ``url``, ``memory``, ``custom-tool``, ``hook``, ...) and that kind's fields as
    snake_case attributes (``full_command_text``, ``file_name``, ``tool_name``...).

    A handler gets the subclass of the request's kind (:class:`ShellPermissionRequest`,
    :class:`WritePermissionRequest`...: ``match request:`` / ``isinstance`` on them), or
    this class itself for a kind this SDK does not know; ``request["wireName"]`` and
    ``to_dict()`` give the wire object as the CLI sent it.
    """

    __slots__ = ()

    #: The wire ``kind`` a subclass stands for (``None`` on this class).
    KIND: ClassVar[str | None] = None

    tool_call_id: Field[str] = text(
        "toolCallId", "The id of the tool call that needs the permission."
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data, _REQUEST_FIELDS, _FREE_FORM)

    @property
    def kind(self) -> str:
        """The permission kind: ``"shell"``, ``"read"``... (a plain string, also for kinds this SDK does not know)."""
        return str(self._data.get("kind", ""))

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> PermissionRequest:
        """The wire object ``permissionRequest`` as the class of its ``kind``, or as a plain
        :class:`PermissionRequest` for a kind this SDK does not know. Never raises on a
        missing or mistyped field: that field reads as ``None`` (logged at DEBUG)."""
        kind = data.get("kind")
        target = PERMISSION_REQUEST_CLASSES.get(kind) if isinstance(kind, str) else None
        if target is None:
            return PermissionRequest(data)
        request = target(data)
        problems = _problems(request)
        if problems:
            logger.debug(
                "a %r permission request read with None for: %s", kind, "; ".join(problems)
            )
        return request


_MANAGED = "Whether a managed policy requires a person to answer (an application should not approve it on its own)."
_BYPASS = "True when the tool asks to run this outside the CLI's sandbox (the risk is higher)."
_BYPASS_REASON = "Why the sandbox bypass is asked for (with ``request_sandbox_bypass``)."
_GRANT = (
    "The sandbox policy change that would let this run inside the sandbox (CLI 1.0.102; a view)."
)
_RESOLVED = "The CLI's canonical form of the path (CLI 1.0.102; internal, experimental: show the other one)."


# ---------------------------------------------------------------------------- shell


class ShellCommand(WireObject):
    """One command of a shell request's ``commands``."""

    __slots__ = ()
    identifier: Field[str] = text(
        "identifier", 'The command as the CLI identifies it (``"echo hi"``, ``"git status"``).'
    )
    read_only: Field[bool] = flag("readOnly", "Whether the command has no side effects.")


class ShellCommandSegment(WireObject):
    """One segment of a shell request's ``command_segments`` (the CLI's policy matching)."""

    __slots__ = ()
    identifier: Field[str] = text("identifier", 'The executable (``"echo"``).')
    full_command_text: Field[str] = text(
        "fullCommandText", "The segment's text with its arguments."
    )


class ShellPossibleUrl(WireObject):
    """One URL of a shell request's ``possible_urls``."""

    __slots__ = ()
    url: Field[str] = text("url", "A URL the command may access.")


class ShellPermissionRequest(PermissionRequest):
    """``kind: "shell"``: run a shell command (the agent's ``bash`` tool)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "shell"

    full_command_text: Field[str] = text(
        "fullCommandText", "The whole command line to run.", required=True
    )
    command: Field[str] = text(
        "fullCommandText", "The command line to run: the same as ``full_command_text``."
    )
    intention: Field[str] = text(
        "intention", "What the command is for, in the model's words.", required=True
    )
    commands: Field[list[ShellCommand]] = Field(
        "commands",
        _views(ShellCommand),
        "The commands found in the line (:class:`ShellCommand`).",
        True,
    )
    command_segments: Field[list[ShellCommandSegment]] = Field(
        "commandSegments", _views(ShellCommandSegment), "The line's segments with their arguments."
    )
    possible_paths: Field[list[str]] = texts(
        "possiblePaths", "Files the command may read or write.", required=True
    )
    possible_urls: Field[list[ShellPossibleUrl]] = Field(
        "possibleUrls",
        _views(ShellPossibleUrl),
        "URLs the command may access (:class:`ShellPossibleUrl`).",
        True,
    )
    has_write_file_redirection: Field[bool] = flag(
        "hasWriteFileRedirection",
        "Whether the line writes a file with ``>`` or ``>>``.",
        required=True,
    )
    can_offer_session_approval: Field[bool] = flag(
        "canOfferSessionApproval",
        "Whether an approval for the whole session may be offered.",
        required=True,
    )
    warning: Field[str] = text("warning", "A warning about the command's risks.")
    shell_type: Field[str] = text(
        "shellType", 'The shell (``"bash"``; sent by CLI 1.0.102, not in its schema).'
    )
    managed_approval_required: Field[bool] = flag("managedApprovalRequired", _MANAGED)
    resolved_working_directory: Field[str] = text(
        "resolvedWorkingDirectory", "The canonical working directory (CLI 1.0.102)."
    )
    resolved_paths: Field[dict[str, str]] = Field(
        "resolvedPaths",
        _string_map,
        "Each of ``possible_paths`` -> its canonical path (CLI 1.0.102).",
    )
    request_sandbox_bypass: Field[bool] = flag("requestSandboxBypass", _BYPASS)
    request_sandbox_permissive: Field[bool] = flag(
        "requestSandboxPermissive",
        "True when the escalation asked for is a permissive sandboxed retry (CLI 1.0.102).",
    )
    request_sandbox_bypass_reason: Field[str] = text("requestSandboxBypassReason", _BYPASS_REASON)
    sandbox_path_grant: Field[WireObject] = view("sandboxPathGrant", _GRANT)


# ---------------------------------------------------------------------------- files and URLs


class WritePermissionRequest(PermissionRequest):
    """``kind: "write"``: create or change a file (the ``create`` and ``edit`` tools)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "write"

    file_name: Field[str] = text("fileName", "The path of the file to write.", required=True)
    intention: Field[str] = text(
        "intention", 'What the change is for (``"Create file"``).', required=True
    )
    diff: Field[str] = text("diff", "A unified diff of the change.", required=True)
    new_file_contents: Field[str] = text(
        "newFileContents", "The whole content of a file being created."
    )
    file_edits: Field[list[WireObject]] = Field(
        "fileEdits",
        _views(WireObject),
        "Before/after previews (views with ``before``/``after``; CLI 1.0.102).",
    )
    can_offer_session_approval: Field[bool] = flag(
        "canOfferSessionApproval",
        "Whether an approval of writes for the whole session may be offered.",
        required=True,
    )
    managed_approval_required: Field[bool] = flag("managedApprovalRequired", _MANAGED)
    resolved_path: Field[str] = text("resolvedPath", _RESOLVED)
    request_sandbox_bypass: Field[bool] = flag("requestSandboxBypass", _BYPASS)
    request_sandbox_bypass_reason: Field[str] = text("requestSandboxBypassReason", _BYPASS_REASON)
    sandbox_path_grant: Field[WireObject] = view("sandboxPathGrant", _GRANT)


class ReadPermissionRequest(PermissionRequest):
    """``kind: "read"``: read a file or directory (``view``, ``grep``, ``glob``...)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "read"

    path: Field[str] = text("path", "The file or directory to read.", required=True)
    intention: Field[str] = text(
        "intention", 'Why it is read (``"Read file: /tmp/notes.txt"``).', required=True
    )
    managed_approval_required: Field[bool] = flag("managedApprovalRequired", _MANAGED)
    resolved_path: Field[str] = text("resolvedPath", _RESOLVED)
    request_sandbox_bypass: Field[bool] = flag("requestSandboxBypass", _BYPASS)
    request_sandbox_bypass_reason: Field[str] = text("requestSandboxBypassReason", _BYPASS_REASON)
    sandbox_path_grant: Field[WireObject] = view("sandboxPathGrant", _GRANT)


class UrlPermissionRequest(PermissionRequest):
    """``kind: "url"``: fetch a URL (the ``web_fetch`` tool)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "url"

    url: Field[str] = text("url", "The URL to fetch.", required=True)
    intention: Field[str] = text("intention", "Why it is fetched.", required=True)
    redirected_from: Field[str] = text(
        "redirectedFrom", "The URL that redirected here, when this is a redirect's target."
    )
    managed_approval_required: Field[bool] = flag("managedApprovalRequired", _MANAGED)
    request_sandbox_bypass: Field[bool] = flag("requestSandboxBypass", _BYPASS)
    request_sandbox_bypass_reason: Field[str] = text("requestSandboxBypassReason", _BYPASS_REASON)


# ---------------------------------------------------------------------------- tools


class McpPermissionRequest(PermissionRequest):
    """``kind: "mcp"``: call a tool of an MCP server."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "mcp"

    server_name: Field[str] = text("serverName", "The MCP server's name.", required=True)
    tool_name: Field[str] = text("toolName", "The tool's name on that server.", required=True)
    tool_title: Field[str] = text("toolTitle", "The tool's human-readable title.", required=True)
    read_only: Field[bool] = flag(
        "readOnly", "Whether the tool has no side effects.", required=True
    )
    args: Field[Any] = as_is("args", "The tool's arguments, as the model gave them (a plain dict).")
    permission_recommendation: Field[str] = text(
        "permissionRecommendation",
        "The CLI's advice (``\"approve\"``); the decision stays the handler's.",
    )


class CustomToolPermissionRequest(PermissionRequest):
    """``kind: "custom-tool"``: call one of the session's own tools (``tools=[...]``) that
    was not defined with ``skip_permission=True``."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "custom-tool"

    tool_name: Field[str] = text("toolName", "The tool's name.", required=True)
    tool_description: Field[str] = text("toolDescription", "The tool's description.", required=True)
    args: Field[Any] = as_is("args", "The tool's arguments, as the model gave them (a plain dict).")
    skip_permission: Field[bool] = flag(
        "skipPermission", "Whether the tool said permission may be skipped unless a rule denies it."
    )


class HookPermissionRequest(PermissionRequest):
    """``kind: "hook"``: a hook asks for a person's confirmation of a tool call."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "hook"

    tool_name: Field[str] = text("toolName", "The tool the hook holds back.", required=True)
    tool_args: Field[Any] = as_is("toolArgs", "That tool call's arguments (as given).")
    hook_message: Field[str] = text("hookMessage", "The hook's explanation.")


class MemoryPermissionRequest(PermissionRequest):
    """``kind: "memory"``: store a fact in the agent's memory, or vote on one."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "memory"

    fact: Field[str] = text("fact", "The fact stored or voted on.", required=True)
    action: Field[str] = text("action", '``"store"`` or ``"vote"`` (an open set).')
    subject: Field[str] = text("subject", "The memory's topic (store).")
    citations: Field[str] = text("citations", "The fact's sources (store).")
    direction: Field[str] = text("direction", '``"upvote"`` or ``"downvote"`` (vote).')
    reason: Field[str] = text("reason", "Why the vote (vote).")
    scope: Field[str] = text("scope", '``"repository"`` or ``"user"`` (store).')
    repo_nwo: Field[str] = text("repoNwo", "The repository (``owner/name``) of the memory (store).")
    assisted_approval: Field[WireObject] = view(
        "assistedApproval", "The assisted-approval judge's view (assisted mode only)."
    )


# ---------------------------------------------------------------------------- extensions and workflows


class ExtensionManagementPermissionRequest(PermissionRequest):
    """``kind: "extension-management"``: scaffold or reload a CLI extension."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "extension-management"

    operation: Field[str] = text(
        "operation", 'The operation (``"scaffold"``, ``"reload"``).', required=True
    )
    extension_name: Field[str] = text("extensionName", "The extension's name.")


class ExtensionCapabilitiesPermissionRequest(PermissionRequest):
    """``kind: "extension-permission-access"``: a CLI extension asks for capabilities."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "extension-permission-access"

    extension_name: Field[str] = text("extensionName", "The extension's name.", required=True)
    capabilities: Field[list[str]] = texts(
        "capabilities", "The capabilities it asks for.", required=True
    )


class ExtensionEnvAccessPermissionRequest(PermissionRequest):
    """``kind: "extension-env-access"``: a CLI extension asks to read sensitive environment variables."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "extension-env-access"

    extension_name: Field[str] = text("extensionName", "The extension's name.", required=True)
    environment_variables: Field[list[str]] = texts(
        "environmentVariables", "The variables' names (never their values).", required=True
    )


class WorkflowPermissionRequest(PermissionRequest):
    """``kind: "workflow"``: run or author a workflow (CLI 1.0.102; 1.0.81 sends the same
    as ``kind: "factory"``, a :class:`FactoryPermissionRequest`)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "workflow"

    operation: Field[str] = text(
        "operation", '``"run"`` or ``"author"`` (an open set).', required=True
    )
    name: Field[str] = text("name", "The workflow's name.", required=True)
    description: Field[str] = text("description", "The workflow's description.", required=True)
    phases: Field[list[WireObject]] = Field(
        "phases", _views(WireObject), "Its declared phases (views).", True
    )
    approval_key: Field[str] = text(
        "approvalKey", "The key an approval of it is remembered by.", required=True
    )
    can_persist_approval: Field[bool] = flag(
        "canPersistApproval", "Whether it may be approved for good.", required=True
    )
    max_concurrent_subagents: Field[int] = integer(
        "maxConcurrentSubagents", "Subagents at once (``None``: no limit)."
    )
    max_total_subagents: Field[int] = integer(
        "maxTotalSubagents", "Subagents in all (``None``: no limit)."
    )
    timeout_seconds: Field[float] = number(
        "timeoutSeconds", "Active time limit in seconds (``None``: no limit)."
    )
    max_ai_credits: Field[float] = number("maxAiCredits", "AI-credit limit (``None``: no limit).")
    declared_max_concurrent_subagents: Field[int] = integer(
        "declaredMaxConcurrentSubagents", "As declared, before overrides."
    )
    declared_max_total_subagents: Field[int] = integer(
        "declaredMaxTotalSubagents", "As declared, before overrides."
    )
    declared_timeout_seconds: Field[float] = number(
        "declaredTimeoutSeconds", "As declared, before overrides."
    )
    declared_max_ai_credits: Field[float] = number(
        "declaredMaxAiCredits", "As declared, before overrides."
    )
    managed_approval_required: Field[bool] = flag(
        "managedApprovalRequired", _MANAGED + " (CLI 1.0.102)"
    )


class FactoryPermissionRequest(WorkflowPermissionRequest):
    """``kind: "factory"``: CLI 1.0.81's name for a :class:`WorkflowPermissionRequest`
    (same fields; ``isinstance(request, WorkflowPermissionRequest)`` holds)."""

    __slots__ = ()
    KIND: ClassVar[str | None] = "factory"


#: Wire ``kind`` -> the class a handler gets.
PERMISSION_REQUEST_CLASSES: dict[str, type[PermissionRequest]] = {
    cls.KIND: cls
    for cls in (
        ShellPermissionRequest, WritePermissionRequest, ReadPermissionRequest, UrlPermissionRequest,
        McpPermissionRequest, CustomToolPermissionRequest, HookPermissionRequest, MemoryPermissionRequest,
        ExtensionManagementPermissionRequest, ExtensionCapabilitiesPermissionRequest,
        ExtensionEnvAccessPermissionRequest, WorkflowPermissionRequest, FactoryPermissionRequest,
    )
    if cls.KIND is not None
}  # fmt: skip
