"""Session options on the wire: each option's field in ``session.create``/``session.resume``
and the conversion of its value.

Names and shapes follow the official Python SDK's to-wire conversion; docs/PARITY.md sets
them beside the official options. Nested dicts may use snake_case keys: they become the
wire's camelCase, except the keys of free-form maps (environment variables, HTTP headers,
server names, feature flags), which are sent as given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from ._cloud import cloud_to_wire
from ._fields import is_mapping
from ._requests.canvas import (
    CanvasProviderIdentity,
    ExtensionInfo,
    canvases_to_wire,
    identity_to_wire,
    open_canvases_to_wire,
)

__all__ = ["SHAPES", "WIRE_KEYS", "camel", "camel_keys", "string_list"]

#: Option (snake_case keyword) -> wire field. Options missing here stay in this process.
WIRE_KEYS: dict[str, str] = {
    "session_id": "sessionId",
    "name": "name",
    "client_name": "clientName",
    "model": "model",
    "reasoning_effort": "reasoningEffort",
    "reasoning_summary": "reasoningSummary",
    "context_tier": "contextTier",
    "enable_experimental_mode": "isExperimentalMode",
    "tools": "tools",
    "system_message": "systemMessage",
    "tool_search": "toolSearch",
    "image_generation": "imageGeneration",
    "available_tools": "availableTools",
    "excluded_tools": "excludedTools",
    "ask_user_variant": "askUserVariant",
    "working_directory": "workingDirectory",
    "additional_directories": "additionalDirectories",
    "provider": "provider",
    "capi": "capi",
    "providers": "providers",
    "models": "models",
    "enable_session_telemetry": "enableSessionTelemetry",
    "enable_citations": "enableCitations",
    "enable_file_change_tracking": "enableFileChangeTracking",
    "excluded_builtin_agents": "excludedBuiltinAgents",
    "session_limits": "sessionLimits",
    "autopilot": "autopilot",
    # The official SDK sends these five by session.options.update after the session opens;
    # the CLI (1.0.102) honours them in session.create/session.resume too (tests/real).
    "skip_custom_instructions": "skipCustomInstructions",
    "custom_agents_local_only": "customAgentsLocalOnly",
    "coauthor_enabled": "coauthorEnabled",
    "manage_schedule_enabled": "manageScheduleEnabled",
    "included_builtin_skills": "includedBuiltinSkills",
    "refresh_custom_instructions": "refreshCustomInstructions",
    "trust_working_directory": "trustWorkingDirectory",
    "model_capabilities": "modelCapabilities",
    "streaming": "streaming",
    "include_sub_agent_streaming_events": "includeSubAgentStreamingEvents",
    "mcp_servers": "mcpServers",
    "diagnostics": "diagnostics",
    "mcp_oauth_token_storage": "mcpOAuthTokenStorage",
    "auth_client_id_metadata_url": "authClientIdMetadataUrl",
    "embedding_cache_storage": "embeddingCacheStorage",
    "custom_agents": "customAgents",
    "default_agent": "defaultAgent",
    "agent": "agent",
    "config_directory": "configDir",
    "config_dir": "configDir",
    "enable_config_discovery": "enableConfigDiscovery",
    "skip_embedding_retrieval": "skipEmbeddingRetrieval",
    "organization_custom_instructions": "organizationCustomInstructions",
    "enable_on_demand_instruction_discovery": "enableOnDemandInstructionDiscovery",
    "enable_file_hooks": "enableFileHooks",
    "enable_host_git_operations": "enableHostGitOperations",
    "enable_session_store": "enableSessionStore",
    "enable_skills": "enableSkills",
    "skill_directories": "skillDirectories",
    "agent_directories": "agentDirectories",
    "hook_directories": "hookDirectories",
    "plugin_directories": "pluginDirectories",
    "instruction_directories": "instructionDirectories",
    "disabled_skills": "disabledSkills",
    "disabled_mcp_servers": "disabledMcpServers",
    "sandbox_config": "sandboxConfig",
    "infinite_sessions": "infiniteSessions",
    "large_output": "largeOutput",
    "memory": "memory",
    "enable_mcp_apps": "requestMcpApps",
    "github_mcp_tool_config": "githubMcpToolConfig",
    "github_token": "gitHubToken",
    "feature_flags": "featureFlags",
    "exp_assignments": "expAssignments",
    "enable_managed_settings": "enableManagedSettings",
    "excluded_managed_settings": "excludedManagedSettings",
    "enforce_managed_model_defaults": "enforceManagedModelDefaults",
    "interactive_user": "interactiveUser",
    "managed_settings": "managedSettings",
    "continue_pending_work": "continuePendingWork",
    "allow_transcript_recovery": "allowTranscriptRecovery",
    "suppress_resume_event": "disableResume",
    "disable_resume": "disableResume",
    "canvases": "canvases",
    "request_canvas_renderer": "requestCanvasRenderer",
    "canvas_provider": "canvasProvider",
    "open_canvases": "openCanvases",
    "request_extensions": "requestExtensions",
    "extension_sdk_path": "extensionSdkPath",
    "extension_info": "extensionInfo",
    "cloud": "cloud",
}


def camel(name: str) -> str:
    """``base_url`` -> ``baseUrl``; a name without underscores is returned as is."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(
    value: Any, *, keep: frozenset[str] = frozenset(), named: frozenset[str] = frozenset()
) -> Any:
    """Convert dict keys to camelCase recursively. Values under a ``keep`` key are copied
    untouched; under a ``named`` key (a map keyed by names), the names stay, the values convert."""
    if is_mapping(value):
        out: dict[str, Any] = {}
        for key, item in value.items():
            wire = camel(key) if isinstance(key, str) else key
            if key in keep or wire in keep:
                out[wire] = item
            elif (key in named or wire in named) and is_mapping(item):
                out[wire] = {
                    name: camel_keys(sub, keep=keep, named=named) for name, sub in item.items()
                }
            else:
                out[wire] = camel_keys(item, keep=keep, named=named)
        return out
    if isinstance(value, (list, tuple)):
        items = cast("list[Any] | tuple[Any, ...]", value)
        return [camel_keys(item, keep=keep, named=named) for item in items]
    return value


def string_list(name: str, value: Any) -> list[str]:
    """``value`` as a list of strings (any iterable of them, not a bare string)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    items: list[Any] = list(cast("Iterable[Any]", value))
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must be a list of strings; found {item!r}")
    return items


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not is_mapping(value):
        raise TypeError(f"{name} must be a mapping, not {type(value).__name__}")
    return value


def _mapping_list(name: str, value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, str) or is_mapping(value) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    items: list[Any] = list(cast("Iterable[Any]", value))
    for item in items:
        if not is_mapping(item):
            raise TypeError(f"{name} items must be mappings, not {type(item).__name__}")
    return items


_FREE_FORM = frozenset({"env", "headers", "metadata", "args"})


def _provider(value: Mapping[str, Any], name: str = "provider") -> dict[str, Any]:
    value = _mapping(name, value)
    for key in ("bearer_token_provider", "bearerTokenProvider"):
        if value.get(key) is not None:
            raise TypeError(
                f"{name}: bearer_token_provider (a token callback) is not supported yet; pass bearer_token"
            )
    config = dict(value)
    capabilities = config.pop("model_capabilities", config.pop("modelCapabilities", None))
    wire: dict[str, Any] = camel_keys(config, keep=_FREE_FORM)
    if capabilities is not None:
        wire["modelCapabilities"] = _model_capabilities(capabilities)
    return wire


def _providers(value: Any) -> list[dict[str, Any]]:
    return [_provider(item, "providers[]") for item in _mapping_list("providers", value)]


def _mcp_servers(value: Any) -> dict[str, Any]:
    if not is_mapping(value):
        raise TypeError(
            f"mcp_servers must be a mapping of server name to config, not {type(value).__name__}"
        )
    servers: dict[str, Any] = {}
    for name, config in value.items():
        if not is_mapping(config):
            raise TypeError(f"mcp_servers[{name!r}] must be a mapping, not {type(config).__name__}")
        config = dict(config)
        if "working_directory" in config:
            config["cwd"] = config.pop("working_directory")
        servers[name] = camel_keys(config, keep=_FREE_FORM)
    return servers


def _custom_agents(value: Any) -> list[dict[str, Any]]:
    agents: list[dict[str, Any]] = []
    for agent in _mapping_list("custom_agents", value):
        agent = dict(agent)
        servers = agent.pop("mcp_servers", agent.pop("mcpServers", None))
        wire = camel_keys(agent, keep=_FREE_FORM)
        if servers is not None:
            wire["mcpServers"] = _mcp_servers(servers)
        agents.append(wire)
    return agents


def _model_capabilities(value: Any) -> dict[str, Any]:
    # The CLI reads limits in snake_case: only the top level and
    # "supports" are camelCase.
    out: dict[str, Any] = {}
    for key, item in _mapping("model_capabilities", value).items():
        if key == "limits":
            out["limits"] = dict(item)
        elif key == "supports":
            out["supports"] = camel_keys(item)
        else:
            out[camel(key)] = item
    return out


def _models(value: Any) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    for model in _mapping_list("models", value):
        model = dict(model)
        capabilities = model.pop("capabilities", None)
        wire = camel_keys(model, keep=_FREE_FORM | {"sections"})  # section ids are snake_case
        if capabilities is not None:
            wire["capabilities"] = _model_capabilities(capabilities)
        models.append(wire)
    return models


def _large_output(value: Any) -> dict[str, Any]:
    config = dict(_mapping("large_output", value))
    if "output_directory" in config:
        config["outputDir"] = config.pop("output_directory")
    wire: dict[str, Any] = camel_keys(config)
    return wire


def _memory(value: Any) -> dict[str, Any]:
    config = _mapping("memory", value)
    if "enabled" not in config:
        raise TypeError("memory needs 'enabled' (True or False)")
    wire: dict[str, Any] = camel_keys(config)
    return wire


def _record_or_mapping(name: str, *, named: frozenset[str] = frozenset()) -> Callable[[Any], Any]:
    """For options the official SDK types as generated records: a ``copilot_sync.generated.rpc``
    record (already in wire form) or a dict with snake_case or camelCase keys."""

    def convert(value: Any) -> Any:
        to_dict = getattr(value, "to_dict", None)
        if not is_mapping(value) and callable(to_dict):
            return to_dict()
        return camel_keys(_mapping(name, value), named=named)

    return convert


def _feature_flags(value: Any) -> dict[str, bool]:
    flags = dict(_mapping("feature_flags", value))
    for flag, on in flags.items():
        if not isinstance(flag, str) or not isinstance(on, bool):
            raise TypeError(f"feature_flags maps flag names to True/False; got {flag!r}: {on!r}")
    return flags


_EXP_KEYS = {
    "features": "Features", "flights": "Flights", "configs": "Configs", "assignment_context": "AssignmentContext",
    "parameter_groups": "ParameterGroups", "flighting_version": "FlightingVersion", "impression_id": "ImpressionId",
}  # fmt: skip


def _exp_assignments(value: Any) -> dict[str, Any]:
    """The ExP response's wire form is PascalCase (``Features``, ``Configs[].Parameters``...)."""
    wire: dict[str, Any] = {}
    for key, item in _mapping("exp_assignments", value).items():
        if key in ("configs", "Configs"):
            item = [
                {
                    {"id": "Id", "parameters": "Parameters"}.get(k, k): v
                    for k, v in _mapping("configs[]", entry).items()
                }
                for entry in item
            ]
        wire[_EXP_KEYS.get(key, key)] = item
    return wire


def _strings(name: str) -> Callable[[Any], list[str]]:
    return lambda value: string_list(name, value)


def _nested(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda value: camel_keys(_mapping(name, value))


#: Option -> conversion of its value to the wire's shape (options missing here go as given).
SHAPES: dict[str, Callable[[Any], Any]] = {
    "provider": _provider,
    "providers": _providers,
    "models": _models,
    "mcp_servers": _mcp_servers,
    "custom_agents": _custom_agents,
    "model_capabilities": _model_capabilities,
    "large_output": _large_output,
    "memory": _memory,
    "sandbox_config": _record_or_mapping(
        "sandbox_config", named=frozenset({"env_vars", "envVars"})
    ),
    "diagnostics": _record_or_mapping("diagnostics"),
    "feature_flags": _feature_flags,
    "exp_assignments": _exp_assignments,
    "canvases": canvases_to_wire,
    "cloud": cloud_to_wire,
    "open_canvases": open_canvases_to_wire,
    "extension_info": identity_to_wire("extension_info", ExtensionInfo, ("source", "name")),
    "canvas_provider": identity_to_wire("canvas_provider", CanvasProviderIdentity, ("id", "name")),
    **{
        name: _nested(name)
        for name in (
            "infinite_sessions",
            "session_limits",
            "autopilot",
            "default_agent",
            "tool_search",
            "image_generation",
            "capi",
            "github_mcp_tool_config",
            "managed_settings",
        )
    },
    **{
        name: _strings(name)
        for name in (
            "available_tools",
            "excluded_tools",
            "additional_directories",
            "excluded_builtin_agents",
            "included_builtin_skills",
            "skill_directories",
            "agent_directories",
            "hook_directories",
            "plugin_directories",
            "instruction_directories",
            "disabled_skills",
            "disabled_mcp_servers",
            "excluded_managed_settings",
        )
    },
}
