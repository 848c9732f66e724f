"""``extensionLaunchProvider.resolve``: the host decides how each CLI extension is launched.

CLI extensions are entrypoints the CLI discovers (``.github/extensions/<name>/extension.mjs``
in the project, ``extensions/`` of the CLI's home, installed plugins, a session's state
directory) and runs as child processes. A client built with ``extension_launch_provider=``
registers itself with ``registerExtensionLaunchProvider`` right after the handshake (before
any session exists); from then on, just before it launches or reloads an extension, the CLI
sends ``extensionLaunchProvider.resolve`` with the entrypoint, and the provider answers with
the process to start (:class:`ExtensionLaunchProfile`: ``executable``, ``args``, ``env``), or
``None`` when it does not handle that entrypoint (the result is then ``{}``).

The provider runs on the client's worker pool, like every handler; the CLI waits at most
:data:`RESPONSE_SECONDS` for the answer. A provider that raises, or returns anything but a
profile, a dict of one or ``None``, is logged here (with the traceback of a raise; never
the profile's environment values) and the CLI gets a generic error, never the exception's text. Once a
provider is registered the CLI does not fall back to its own launcher: an entrypoint answered
with ``None`` or an error is not launched. A server without
``registerExtensionLaunchProvider`` (every supported CLI has it) gets a warning logged at
start, and the client goes on without the provider.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._wire.connection import INTERNAL_ERROR, is_unhandled

if TYPE_CHECKING:
    from .._wire.connection import JsonRpcConnection

__all__ = [
    "METHOD",
    "REGISTER",
    "RESPONSE_SECONDS",
    "ExtensionLaunchProfile",
    "ExtensionLaunchProvider",
    "ExtensionLaunchRequest",
    "answer",
    "profile_to_wire",
    "register",
]

METHOD = "extensionLaunchProvider.resolve"
REGISTER = "registerExtensionLaunchProvider"
#: How long the CLI waits for a provider's answer (its schema says 15 seconds).
RESPONSE_SECONDS = 15.0
_INVALID_PARAMS = -32602
_PROFILE_KEYS = ("executable", "args", "env")

logger = logging.getLogger("copilot_sync.client")


@dataclass(frozen=True)
class ExtensionLaunchRequest:
    """One extension entrypoint the CLI is about to launch (or reload).

    ``id`` is the source-qualified identifier (``"project:my-ext"``, ``"user:auth-helper"``,
    ``"plugin:my-plugin:my-ext"``), ``name`` the extension's name (its directory),
    ``module_path`` the absolute path of the entrypoint file, and ``source`` where the CLI
    found it: ``"project"`` (``.github/extensions/``), ``"user"`` (the CLI home's
    ``extensions/``), ``"plugin"`` (an installed plugin) or ``"session"`` (the session's
    state directory). A newer CLI may send a source not listed here.
    """

    id: str
    name: str
    module_path: str
    source: str


@dataclass
class ExtensionLaunchProfile:
    """How to start one extension: the process the CLI spawns instead of its own launcher.

    ``executable`` (non-empty) is run with ``args``; the CLI does not append the entrypoint,
    so put :attr:`ExtensionLaunchRequest.module_path` in ``args`` if the program needs it.
    ``env`` adds environment variables; the CLI's own ``COPILOT_SDK_PATH``, ``SESSION_ID``
    and ``COPILOT_EXTENSION_PARENT_PID`` take precedence. ``env`` is kept out of ``repr``
    (it may hold secrets).
    """

    executable: str
    args: list[str] = field(default_factory=list[str])
    env: dict[str, str] = field(default_factory=dict[str, str], repr=False)

    def to_wire(self) -> dict[str, Any]:
        """The CLI's ``ExtensionLaunchProfile`` (``{executable, args, env}``), checked:
        ``TypeError``/``ValueError`` naming the field (never an environment value)."""
        executable: object = self.executable
        if not isinstance(executable, str) or not executable:
            raise ValueError("a launch profile's executable must be a non-empty str")
        args: object = self.args
        if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)):
            raise TypeError(
                f"a launch profile's args must be a list of str, not {type(args).__name__}"
            )
        wire_args: list[str] = []
        for index, arg in enumerate(cast("Sequence[object]", args)):
            if not isinstance(arg, str):
                raise TypeError(
                    f"a launch profile's args[{index}] must be a str, not {type(arg).__name__}"
                )
            wire_args.append(arg)
        env: object = self.env
        if not is_mapping(env):
            raise TypeError(
                f"a launch profile's env must be a dict of str to str, not {type(env).__name__}"
            )
        wire_env: dict[str, str] = {}
        for name, value in env.items():
            if not isinstance(name, str) or not name:
                raise TypeError("a launch profile's env names must be non-empty str")
            if not isinstance(value, str):
                raise TypeError(
                    f"a launch profile's env[{name!r}] must be a str, not {type(value).__name__}"
                )
            wire_env[name] = value
        return {"executable": executable, "args": wire_args, "env": wire_env}


class ExtensionLaunchProvider(Protocol):
    """The client's ``extension_launch_provider``: given one discovered extension
    entrypoint (:class:`ExtensionLaunchRequest`), returns how to launch it, as an
    :class:`ExtensionLaunchProfile` or a dict with the same keys (``executable``, and
    optionally ``args`` and ``env``), or ``None`` when it does not handle that entrypoint
    (the CLI then does not launch it). Runs on a worker thread; the CLI waits at most
    :data:`RESPONSE_SECONDS`."""

    def __call__(
        self, request: ExtensionLaunchRequest, /
    ) -> ExtensionLaunchProfile | Mapping[str, Any] | None:
        """Resolve ``request`` to a launch profile, or ``None``."""
        ...


def _request(params: Any) -> ExtensionLaunchRequest:
    if not is_mapping(params) or not all(
        isinstance(params.get(key), str) for key in ("id", "name", "modulePath", "source")
    ):
        raise JsonRpcError(_INVALID_PARAMS, "Invalid extension launch request")
    return ExtensionLaunchRequest(
        id=params["id"],
        name=params["name"],
        module_path=params["modulePath"],
        source=params["source"],
    )


def profile_to_wire(value: object) -> dict[str, Any]:
    """What a provider returned (an :class:`ExtensionLaunchProfile` or a dict of one), as
    the CLI's ``ExtensionLaunchProfile``; ``TypeError``/``ValueError`` for anything else."""
    if isinstance(value, ExtensionLaunchProfile):
        return value.to_wire()
    if not is_mapping(value):
        raise TypeError(
            "extension_launch_provider must return an ExtensionLaunchProfile, a dict or None, "
            f"not {type(value).__name__}"
        )
    unknown = [key for key in value if key not in _PROFILE_KEYS]
    if unknown:
        raise TypeError(
            f"unknown launch profile key {str(unknown[0])!r:.60}; the keys are executable, args, env"
        )
    if "executable" not in value:
        raise ValueError("a launch profile needs an executable")
    return ExtensionLaunchProfile(
        executable=value["executable"],
        args=value.get("args", []),
        env=value.get("env", {}),
    ).to_wire()


def answer(provider: ExtensionLaunchProvider | None, params: Any) -> dict[str, Any]:
    """The answer to one ``extensionLaunchProvider.resolve`` (worker thread):
    ``{"launch": profile}``, or ``{}`` when the provider returned ``None``."""
    request = _request(params)
    if provider is None:
        raise JsonRpcError(
            INTERNAL_ERROR, "no extension_launch_provider is registered on this client"
        )
    started = time.monotonic()
    try:
        value: object = provider(request)
    except Exception:
        logger.exception(
            "extension_launch_provider raised for extension %.120s; the CLI gets an error",
            request.id,
        )
        raise JsonRpcError(INTERNAL_ERROR, "extension launch provider failed") from None
    elapsed = time.monotonic() - started
    if elapsed > RESPONSE_SECONDS:
        logger.warning(
            "extension_launch_provider took %.1fs for extension %.120s; the CLI waits %gs",
            elapsed,
            request.id,
            RESPONSE_SECONDS,
        )
    if value is None:
        return {}
    try:
        launch = profile_to_wire(value)
    except (TypeError, ValueError) as exc:
        logger.error(
            "extension_launch_provider returned an invalid launch profile for extension %.120s: %s",
            request.id,
            exc,
        )
        raise JsonRpcError(INTERNAL_ERROR, "invalid extension launch profile") from None
    return {"launch": launch}


def register(connection: JsonRpcConnection, timeout: float) -> bool:
    """Tell the CLI this client is its extension launch provider (right after the
    handshake, before any session exists). A server without the method is logged, once per
    connection, and False returned; any other error is raised."""
    try:
        connection.request(REGISTER, {}, timeout=timeout)
    except JsonRpcError as exc:
        if not is_unhandled(exc):
            raise
        logger.warning(
            "this Copilot CLI does not support %s (it predates the option): "
            "extension_launch_provider is not used, and the CLI launches extensions itself",
            REGISTER,
        )
        return False
    return True
