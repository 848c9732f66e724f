"""Client options that shape the CLI server itself: who the integrating application is,
where the CLI keeps its data, its OpenTelemetry export, its idle timeout for sessions, and
the plugins the host bundles. Checked when the client is built; applied when it starts
(command line, environment, the ``connect`` handshake, then ``plugins.builtin.set``).
The ``connect`` handshake also carries the host's Entra app registration (``_entra.py``)
and the GitHub telemetry opt-in (``_requests/github_telemetry.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ._entra import EntraAuthConfig, check_entra, entra_refusal, warn_if_ignored
from ._requests.github_telemetry import FORWARDING_FLAG

if TYPE_CHECKING:
    from ._errors import JsonRpcError

__all__ = ["ClientInfo", "EntraAuthConfig", "ServerOptions", "TelemetryConfig"]


class ClientInfo(TypedDict, total=False):
    """The integrating application, declared on the ``connect`` handshake so that the
    telemetry the CLI emits for this connection is attributed to it. Every key is optional.
    """

    application_name: str
    """The application using the SDK, e.g. ``"acme-review-bot"``."""
    application_version: str
    """Its version, e.g. ``"2.4.0"`` (the CLI ignores it unless it looks like a version)."""
    integration_name: str
    """The Copilot integration within the application (a plugin, an extension), if any."""
    integration_version: str
    """The integration's version."""


class TelemetryConfig(TypedDict, total=False):
    """The CLI's own OpenTelemetry export (traces and metrics of its agent loop). Giving
    it, even empty, turns the export on (``COPILOT_OTEL_ENABLED=true``); each key sets one
    environment variable of the CLI process."""

    otlp_endpoint: str
    """OTLP/HTTP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    otlp_protocol: Literal["http/json", "http/protobuf"]
    """OTLP encoding (``OTEL_EXPORTER_OTLP_PROTOCOL``)."""
    file_path: str
    """Write JSON lines of spans to this file (``COPILOT_OTEL_FILE_EXPORTER_PATH``)."""
    exporter_type: Literal["otlp-http", "file"]
    """Which exporter (``COPILOT_OTEL_EXPORTER_TYPE``)."""
    source_name: str
    """Instrumentation scope name (``COPILOT_OTEL_SOURCE_NAME``)."""
    capture_content: bool
    """Record prompts and replies in spans
    (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)."""


_CLIENT_INFO_WIRE = {
    "application_name": "editorName",
    "application_version": "editorVersion",
    "integration_name": "extensionName",
    "integration_version": "extensionVersion",
}
_TELEMETRY_ENV = {
    "otlp_endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
    "otlp_protocol": "OTEL_EXPORTER_OTLP_PROTOCOL",
    "file_path": "COPILOT_OTEL_FILE_EXPORTER_PATH",
    "exporter_type": "COPILOT_OTEL_EXPORTER_TYPE",
    "source_name": "COPILOT_OTEL_SOURCE_NAME",
    "capture_content": "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
}
_TELEMETRY_CHOICES = {
    "otlp_protocol": ("http/json", "http/protobuf"),
    "exporter_type": ("otlp-http", "file"),
}


def _unknown(what: str, key: object, known: Mapping[str, object]) -> TypeError:
    import difflib

    close = difflib.get_close_matches(str(key), sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"unknown {what} key {key!r}{hint}")


def _client_info_wire(value: Mapping[str, Any] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"client_info must be a dict (ClientInfo), not {type(value).__name__}")
    wire: dict[str, str] = {}
    for key, item in value.items():
        name = _CLIENT_INFO_WIRE.get(key)
        if name is None:
            raise _unknown("client_info", key, _CLIENT_INFO_WIRE)
        if not isinstance(item, str):
            raise TypeError(f"client_info[{key!r}] must be a str, not {type(item).__name__}")
        if item:
            wire[name] = item
    return wire or None


def _telemetry_env(value: Mapping[str, Any] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"telemetry must be a dict (TelemetryConfig), not {type(value).__name__}")
    env = {"COPILOT_OTEL_ENABLED": "true"}
    for key, item in value.items():
        name = _TELEMETRY_ENV.get(key)
        if name is None:
            raise _unknown("telemetry", key, _TELEMETRY_ENV)
        if key == "capture_content":
            if not isinstance(item, bool):
                raise TypeError("telemetry['capture_content'] must be a bool")
            env[name] = "true" if item else "false"
            continue
        if not isinstance(item, str) or not item:
            raise TypeError(f"telemetry[{key!r}] must be a non-empty str")
        choices = _TELEMETRY_CHOICES.get(key)
        if choices is not None and item not in choices:
            raise ValueError(
                f"telemetry[{key!r}] must be one of {', '.join(choices)}; got {item!r}"
            )
        env[name] = item
    return env


@dataclass(frozen=True)
class ServerOptions:
    """The checked server-shaping options of one client, in the forms the CLI takes."""

    client_info: dict[str, str] | None = None
    session_idle_timeout_seconds: int | None = None
    builtin_plugin_directories: tuple[str, ...] = ()
    base_directory: str | None = None
    telemetry_env: Mapping[str, str] | None = None
    entra: EntraAuthConfig | None = None
    github_telemetry: bool = False

    @classmethod
    def of(
        cls,
        *,
        client_info: Mapping[str, Any] | None,
        session_idle_timeout_seconds: int | None,
        builtin_plugin_directories: Sequence[str | os.PathLike[str]] | None,
        base_directory: str | os.PathLike[str] | None,
        telemetry: Mapping[str, Any] | None,
        entra: EntraAuthConfig | None = None,
        github_telemetry: bool = False,
    ) -> ServerOptions:
        """Check the options as :class:`~copilot_sync.CopilotClient` got them
        (``TypeError``/``ValueError`` naming the option)."""
        idle = session_idle_timeout_seconds
        if idle is not None and (isinstance(idle, bool) or not isinstance(idle, int) or idle < 0):
            raise ValueError(
                f"session_idle_timeout_seconds must be a whole number of seconds >= 0, not {idle!r}"
            )
        if isinstance(builtin_plugin_directories, (str, bytes)):
            raise TypeError("builtin_plugin_directories must be a list of paths, not one string")
        plugins = tuple(os.fspath(path) for path in builtin_plugin_directories or ())
        for path in plugins:
            if not isinstance(path, str) or not os.path.isabs(path):
                raise ValueError(
                    f"builtin_plugin_directories must hold absolute paths; got {path!r}"
                )
        base = os.fspath(base_directory) if base_directory is not None else None
        if base is not None and not isinstance(base, str):
            raise TypeError("base_directory must be a str path")
        return cls(
            client_info=_client_info_wire(client_info),
            session_idle_timeout_seconds=idle or None,
            builtin_plugin_directories=plugins,
            base_directory=base or None,
            telemetry_env=_telemetry_env(telemetry) or None,
            entra=check_entra(entra),
            github_telemetry=github_telemetry,
        )

    def argv(self) -> list[str]:
        """Command-line flags for a spawned CLI."""
        if self.session_idle_timeout_seconds:
            return ["--session-idle-timeout", str(self.session_idle_timeout_seconds)]
        return []

    def environment(self) -> dict[str, str]:
        """Environment variables for a spawned CLI."""
        env = dict(self.telemetry_env or {})
        if self.base_directory is not None:
            env["COPILOT_HOME"] = self.base_directory
        return env

    @property
    def shapes_the_process(self) -> bool:
        """Whether any option needs a CLI this client spawns (not one at ``cli_url``)."""
        return bool(self.session_idle_timeout_seconds or self.base_directory or self.telemetry_env)

    def connect_params(self) -> dict[str, Any]:
        """Extra params of the ``connect`` handshake."""
        params: dict[str, Any] = {"clientInfo": dict(self.client_info)} if self.client_info else {}
        if self.entra is not None:
            params["entra"] = self.entra.to_wire()
        if self.github_telemetry:
            params[FORWARDING_FLAG] = True
        return params

    def session_params(self) -> dict[str, Any]:
        """Extra params of ``session.create``/``session.resume``: the telemetry opt-in, which
        the official SDK repeats there for older CLIs."""
        return {FORWARDING_FLAG: True} if self.github_telemetry else {}

    def check_connect_error(self, error: JsonRpcError) -> None:
        """Raise :class:`~copilot_sync.EntraNotSupportedError` if ``connect`` failed because
        the CLI does not support ``entra``; return otherwise."""
        refusal = entra_refusal(error) if self.entra is not None else None
        if refusal is not None:
            raise refusal from error

    def check_connected(self, cli_version: str | None) -> None:
        """After the handshake: warn if a CLI that cannot know ``entra`` accepted it."""
        if self.entra is not None:
            warn_if_ignored(cli_version)
