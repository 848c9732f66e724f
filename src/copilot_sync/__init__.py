"""copilot-sync: a synchronous, thread-based Python SDK for the GitHub Copilot CLI.

::

    from copilot_sync import CopilotClient

    with CopilotClient() as client:
        session = client.create_session()
        reply = session.send_and_wait("What is 2 + 2?")
        answer = reply.data.content

Errors (one tree, all importable from here)::

    CopilotError
    ├── CLINotFoundError
    ├── CLIInstallError
    ├── ConnectionLostError
    │   ├── ProcessExitedError
    │   ├── ProtocolError
    │   │   └── FrameTooLargeError
    │   └── CLINotReadingError
    ├── JsonRpcError
    │   └── UnsupportedMethodError (also a CapabilityError)
    ├── ProtocolVersionError
    ├── SessionError
    │   ├── NoReplyError
    │   ├── TurnAbortedError
    │   ├── StructuredOutputError
    │   └── AuthenticationError
    ├── SessionClosedError
    ├── ClientStateError
    ├── ReentrancyError (also a RuntimeError)
    ├── CapabilityError (also a RuntimeError)
    └── CopilotTimeoutError (also a TimeoutError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import SDK_PROTOCOL_VERSION, CopilotClient
from ._client_options import ClientInfo, TelemetryConfig
from ._cloud import CloudRepository, CloudSessionOptions
from ._entra import EntraAuthConfig
from ._errors import (
    AuthenticationError,
    CapabilityError,
    ClientStateError,
    CLIInstallError,
    CLINotFoundError,
    CLINotReadingError,
    ConnectionLostError,
    CopilotError,
    CopilotTimeoutError,
    EntraNotSupportedError,
    FrameTooLargeError,
    JsonRpcError,
    NoReplyError,
    ProcessExitedError,
    ProtocolError,
    ProtocolVersionError,
    ReentrancyError,
    SessionClosedError,
    SessionError,
    StructuredOutputError,
    UnsupportedMethodError,
)
from ._events import SessionEvent, SessionEventBase, UnknownSessionEvent
from ._futures import TurnFuture
from ._logging import enable_file_logging
from ._mode import BUILTIN_TOOLS_ISOLATED
from ._requests.canvas import (
    CanvasAction,
    CanvasActionRequest,
    CanvasCloseRequest,
    CanvasDeclaration,
    CanvasError,
    CanvasHandler,
    CanvasOpenRequest,
    CanvasOpenResult,
    CanvasProviderIdentity,
    CanvasRequest,
    ExtensionInfo,
)
from ._requests.commands import CommandContext, CommandDefinition
from ._requests.define_tool import define_tool
from ._requests.elicitation import ElicitationContext, ElicitationResult, InputOptions, SessionUI
from ._requests.extension_launch import (
    ExtensionLaunchProfile,
    ExtensionLaunchProvider,
    ExtensionLaunchRequest,
)
from ._requests.github_telemetry import GitHubTelemetryEvent
from ._requests.installations import (
    InstallationConfirmationHandler,
    InstallationConfirmationRequest,
)
from ._requests.model_http import CopilotRequestHandler, ModelHttpRequest, ModelHttpResponse
from ._requests.permission_kinds import (
    CustomToolPermissionRequest,
    ExtensionCapabilitiesPermissionRequest,
    ExtensionEnvAccessPermissionRequest,
    ExtensionManagementPermissionRequest,
    FactoryPermissionRequest,
    HookPermissionRequest,
    McpPermissionRequest,
    MemoryPermissionRequest,
    ReadPermissionRequest,
    ShellPermissionRequest,
    UrlPermissionRequest,
    WorkflowPermissionRequest,
    WritePermissionRequest,
)
from ._requests.permissions import (
    MissingPermissionHandlerWarning,
    PermissionHandler,
    PermissionRequest,
    PermissionRequestResult,
)
from ._requests.session_fs import (
    SessionFsConfig,
    SessionFsEntry,
    SessionFsHandler,
    SessionFsSqliteError,
    SessionFsSqliteResult,
    SessionFsStat,
)
from ._requests.session_fs_local import LocalSessionFs
from ._requests.shell import ShellExit, ShellOutput
from ._requests.skill_provider import SkillDescriptor, SkillProvider
from ._requests.tools import Tool, ToolBinaryResult, ToolInvocation, ToolResult
from ._session import CopilotSession
from ._session_options import ProviderConfig, ResumeOptions, SessionHooks, SessionOptions
from ._turns import EventStream, TurnAbortedError
from ._types import (
    ConnectionState,
    GetAuthStatusResponse,
    GetStatusResponse,
    ModelBilling,
    ModelCapabilities,
    ModelInfo,
    ModelLimits,
    ModelPolicy,
    ModelSupports,
    ModelVisionLimits,
    PingResponse,
    SessionContext,
    SessionLifecycleEvent,
    SessionLifecycleEventMetadata,
    SessionListFilter,
    SessionMetadata,
    TranscriptRecoveryReport,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._discovery import ResolvedCLI
    from ._discovery import resolve_cli as find_cli
    from ._events import SessionEventType
    from ._install import InstalledCLI, install_cli
    from .generated.session_events import AssistantMessageEvent


__all__ = [
    "BUILTIN_TOOLS_ISOLATED",
    "SDK_PROTOCOL_VERSION",
    "AssistantMessageEvent",
    "AuthenticationError",
    "CLIInstallError",
    "CLINotFoundError",
    "CLINotReadingError",
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
    "CapabilityError",
    "ClientInfo",
    "ClientStateError",
    "CloudRepository",
    "CloudSessionOptions",
    "CommandContext",
    "CommandDefinition",
    "ConnectionLostError",
    "ConnectionState",
    "CopilotClient",
    "CopilotError",
    "CopilotRequestHandler",
    "CopilotSession",
    "CopilotTimeoutError",
    "CustomToolPermissionRequest",
    "ElicitationContext",
    "ElicitationResult",
    "EntraAuthConfig",
    "EntraNotSupportedError",
    "EventStream",
    "ExtensionCapabilitiesPermissionRequest",
    "ExtensionEnvAccessPermissionRequest",
    "ExtensionInfo",
    "ExtensionLaunchProfile",
    "ExtensionLaunchProvider",
    "ExtensionLaunchRequest",
    "ExtensionManagementPermissionRequest",
    "FactoryPermissionRequest",
    "FrameTooLargeError",
    "GetAuthStatusResponse",
    "GetStatusResponse",
    "GitHubTelemetryEvent",
    "HookPermissionRequest",
    "InputOptions",
    "InstallationConfirmationHandler",
    "InstallationConfirmationRequest",
    "InstalledCLI",
    "JsonRpcError",
    "LocalSessionFs",
    "McpPermissionRequest",
    "MemoryPermissionRequest",
    "MissingPermissionHandlerWarning",
    "ModelBilling",
    "ModelCapabilities",
    "ModelHttpRequest",
    "ModelHttpResponse",
    "ModelInfo",
    "ModelLimits",
    "ModelPolicy",
    "ModelSupports",
    "ModelVisionLimits",
    "NoReplyError",
    "PermissionHandler",
    "PermissionRequest",
    "PermissionRequestResult",
    "PingResponse",
    "ProcessExitedError",
    "ProtocolError",
    "ProtocolVersionError",
    "ProviderConfig",
    "ReadPermissionRequest",
    "ReentrancyError",
    "ResolvedCLI",
    "ResumeOptions",
    "SessionClosedError",
    "SessionContext",
    "SessionError",
    "SessionEvent",
    "SessionEventBase",
    "SessionEventType",
    "SessionFsConfig",
    "SessionFsEntry",
    "SessionFsHandler",
    "SessionFsSqliteError",
    "SessionFsSqliteResult",
    "SessionFsStat",
    "SessionHooks",
    "SessionLifecycleEvent",
    "SessionLifecycleEventMetadata",
    "SessionListFilter",
    "SessionMetadata",
    "SessionOptions",
    "SessionUI",
    "ShellExit",
    "ShellOutput",
    "ShellPermissionRequest",
    "SkillDescriptor",
    "SkillProvider",
    "StructuredOutputError",
    "TelemetryConfig",
    "Tool",
    "ToolBinaryResult",
    "ToolInvocation",
    "ToolResult",
    "TranscriptRecoveryReport",
    "TurnAbortedError",
    "TurnFuture",
    "UnknownSessionEvent",
    "UnsupportedMethodError",
    "UrlPermissionRequest",
    "WorkflowPermissionRequest",
    "WritePermissionRequest",
    "__version__",
    "define_tool",
    "enable_file_logging",
    "find_cli",
    "install_cli",
]

# Loaded on first use, so that `import copilot_sync` stays fast.
_LAZY = {
    "SessionEventType": ("._events", "SessionEventType"),
    "AssistantMessageEvent": ("._events", "AssistantMessageEvent"),
    "find_cli": ("._discovery", "resolve_cli"),
    "ResolvedCLI": ("._discovery", "ResolvedCLI"),
    "install_cli": ("._install", "install_cli"),
    "InstalledCLI": ("._install", "InstalledCLI"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'copilot_sync' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0], __name__), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Tracebacks and reprs name the public module, not the private one that defines a class.
_name = _value = None
for _name in __all__:
    _value = globals().get(_name)
    if isinstance(_value, type) and getattr(_value, "__module__", "").startswith("copilot_sync._"):
        try:
            _value.__module__ = __name__
        except (AttributeError, TypeError):
            pass
del _name, _value
