"""Session options: the snake_case keywords of ``create_session``/``resume_session`` and their wire form.

Every option of the official Python SDK's ``SessionConfig`` that PROTOCOL §3.2 lists as
core is accepted, plus a few extras. An unknown keyword raises ``TypeError`` naming it
(with a close match when there is one). Nested option dicts may use snake_case keys;
they are converted to the wire's camelCase, except inside free-form maps (environment
variables, HTTP headers, server names, section ids).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._requests.arity import check_arity
from ._requests.commands import as_command
from ._requests.define_tool import tool_table

__all__ = [
    "CREATE_OPTIONS",
    "RESUME_OPTIONS",
    "LOCAL_OPTIONS",
    "build_session_params",
    "camel",
    "check_arity",
    "check_options",
    "transform_callbacks",
]

logger = logging.getLogger("copilot_sync.session")

#: Options sent to the CLI (snake_case keyword → wire key).
_WIRE_KEYS: dict[str, str] = {
    "session_id": "sessionId",
    "client_name": "clientName",
    "model": "model",
    "reasoning_effort": "reasoningEffort",
    "reasoning_summary": "reasoningSummary",
    "tools": "tools",
    "system_message": "systemMessage",
    "available_tools": "availableTools",
    "excluded_tools": "excludedTools",
    "working_directory": "workingDirectory",
    "additional_directories": "additionalDirectories",
    "provider": "provider",
    "streaming": "streaming",
    "mcp_servers": "mcpServers",
    "custom_agents": "customAgents",
    "agent": "agent",
    "config_dir": "configDir",
    "skill_directories": "skillDirectories",
    "disabled_skills": "disabledSkills",
    "infinite_sessions": "infiniteSessions",
    "model_capabilities": "modelCapabilities",
    "include_sub_agent_streaming_events": "includeSubAgentStreamingEvents",
    "enable_config_discovery": "enableConfigDiscovery",
}

#: Options that stay in this process (handlers); their presence sets wire flags.
LOCAL_OPTIONS = frozenset(
    {
        "on_permission_request",
        "on_user_input_request",
        "hooks",
        "on_event",
        "commands",
        "on_elicitation_request",
        "create_session_fs_handler",  # session -> SessionFsHandler (needs the client's session_fs)
    }
)

CREATE_OPTIONS = frozenset(_WIRE_KEYS) | LOCAL_OPTIONS
RESUME_OPTIONS = CREATE_OPTIONS | {"disable_resume"}

_HOOK_NAMES = frozenset(
    {
        "on_pre_tool_use",
        "on_post_tool_use",
        "on_post_tool_use_failure",
        "on_user_prompt_submitted",
        "on_user_prompt_transformed",
        "on_session_start",
        "on_session_end",
        "on_error_occurred",
        "on_agent_stop",
        "on_pre_mcp_tool_call",
        "on_subagent_start",
        "on_subagent_stop",
    }
)

#: Handlers given as options, and how many positional arguments the SDK passes them.
_HANDLER_ARITY = {
    "on_permission_request": 2,
    "on_user_input_request": 2,
    "on_event": 1,
    "on_elicitation_request": 1,
    "create_session_fs_handler": 1,
}

_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``base_url`` → ``baseUrl``; a name without underscores is returned as is."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def check_options(options: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """Raise ``TypeError`` for the first keyword that is not an option."""
    for key in options:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{where}() got an unexpected keyword argument {key!r}{hint}")


def _camel_keys(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """Convert dict keys to camelCase recursively; values under ``keep`` keys are copied untouched."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            wire = camel(key) if isinstance(key, str) else key
            out[wire] = item if key in keep or wire in keep else _camel_keys(item, keep=keep)
        return out
    if isinstance(value, (list, tuple)):
        return [_camel_keys(item, keep=keep) for item in value]
    return value


_FREE_FORM = frozenset({"env", "headers", "metadata", "args"})


def _provider(value: Mapping[str, Any]) -> dict[str, Any]:
    return _camel_keys(value, keep=_FREE_FORM)


def _mcp_servers(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"mcp_servers must be a mapping of server name to config, not {type(value).__name__}")
    servers: dict[str, Any] = {}
    for name, config in value.items():
        if not isinstance(config, Mapping):
            raise TypeError(f"mcp_servers[{name!r}] must be a mapping, not {type(config).__name__}")
        config = dict(config)
        if "working_directory" in config:
            config["cwd"] = config.pop("working_directory")
        servers[name] = _camel_keys(config, keep=_FREE_FORM)
    return servers


def _custom_agents(value: Iterable[Any]) -> list[dict[str, Any]]:
    agents = []
    for agent in value:
        if not isinstance(agent, Mapping):
            raise TypeError(f"custom_agents items must be mappings, not {type(agent).__name__}")
        agent = dict(agent)
        servers = agent.pop("mcp_servers", agent.pop("mcpServers", None))
        wire = _camel_keys(agent, keep=_FREE_FORM)
        if servers is not None:
            wire["mcpServers"] = _mcp_servers(servers)
        agents.append(wire)
    return agents


def _model_capabilities(value: Mapping[str, Any]) -> dict[str, Any]:
    # The CLI reads limits in snake_case (PROTOCOL §0.1 #4): only the top level and
    # "supports" are camelCase.
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "limits":
            out["limits"] = dict(item)
        elif key == "supports":
            out["supports"] = _camel_keys(item)
        else:
            out[camel(key)] = item
    return out


def _string_list(name: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must be a list of strings; found {item!r}")
    return items


def _tool_definitions(value: Iterable[Any]) -> list[dict[str, Any]]:
    return [tool.to_wire() for tool in tool_table(value).values()]


def _command_definitions(value: Iterable[Any]) -> list[dict[str, Any]]:
    commands = [as_command(command) for command in value]
    names = [command.name for command in commands]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"two commands are named {name!r}")
    return [command.to_wire() for command in commands]


_SYSTEM_MODES = ("append", "replace", "customize")
#: The system prompt's sections in CLI 1.0.81 (PROTOCOL §3.4).
SYSTEM_SECTIONS = (
    "preamble", "identity", "tone", "tool_efficiency", "environment_context", "code_change_rules", "guidelines",
    "safety", "tool_instructions", "custom_instructions", "runtime_instructions", "last_instructions",
)  # fmt: skip
_SECTION_ACTIONS = ("replace", "remove", "append", "prepend", "preserve", "transform")


def _section_transform(section: Any) -> Callable[[str], Any] | None:
    if callable(section):
        return section
    if isinstance(section, Mapping) and callable(section.get("action")):
        return section["action"]
    return None


def transform_callbacks(system_message: Any) -> dict[str, Callable[[str], Any]]:
    """The callable section transforms of a ``customize`` system message, by section id."""
    if not isinstance(system_message, Mapping):
        return {}
    sections = system_message.get("sections")
    if not isinstance(sections, Mapping):
        return {}
    callbacks = {}
    for section_id, section in sections.items():
        transform = _section_transform(section)
        if transform is not None:
            callbacks[section_id] = transform
    return callbacks


def _system_message(value: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form: a callable section (or a section whose ``action`` is callable) is
    sent as ``{"action": "transform"}`` and answered from ``systemMessage.transform``."""
    mode = value.get("mode", "append")
    if mode not in _SYSTEM_MODES:
        raise ValueError(f"system_message mode must be one of {', '.join(_SYSTEM_MODES)}; got {mode!r}")
    unknown = sorted(set(value) - {"mode", "content", "sections"})
    if unknown:
        raise TypeError(f"system_message has no key {unknown[0]!r}; it takes mode, content and sections")
    if value.get("content") is not None and not isinstance(value["content"], str):
        raise TypeError("system_message content must be a string")
    wire = {key: item for key, item in value.items() if key != "sections"}
    sections = value.get("sections")
    if sections is None:
        return wire
    if mode != "customize":
        raise ValueError("system_message sections need mode 'customize'")
    if not isinstance(sections, Mapping):
        raise TypeError("system_message sections must be a mapping of section id to override")
    wire_sections: dict[str, Any] = {}
    for section_id, section in sections.items():
        if section_id not in SYSTEM_SECTIONS:
            close = difflib.get_close_matches(str(section_id), SYSTEM_SECTIONS, n=1)
            logger.warning(
                "system_message section %r is not one the CLI 1.0.81 builds%s; its override may never apply",
                section_id,
                f" (did you mean {close[0]!r}?)" if close else "",
            )
        if _section_transform(section) is not None:
            check_arity(_section_transform(section), 1, f"the transform of section {section_id!r}")
            wire_sections[section_id] = {"action": "transform"}
            continue
        if not isinstance(section, Mapping):
            raise TypeError(f"section {section_id!r} must be a dict like {{'action': 'append', 'content': ...}} or a callable")
        action = section.get("action")
        if action not in _SECTION_ACTIONS:
            raise ValueError(f"section {section_id!r}: action must be one of {', '.join(_SECTION_ACTIONS)} or a callable; got {action!r}")
        wire_sections[section_id] = dict(section)
    wire["sections"] = wire_sections
    return wire


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "provider": _provider,
    "mcp_servers": _mcp_servers,
    "custom_agents": _custom_agents,
    "infinite_sessions": _camel_keys,
    "model_capabilities": _model_capabilities,
    "system_message": _system_message,
    "available_tools": lambda value: _string_list("available_tools", value),
    "excluded_tools": lambda value: _string_list("excluded_tools", value),
    "skill_directories": lambda value: _string_list("skill_directories", value),
    "disabled_skills": lambda value: _string_list("disabled_skills", value),
    "additional_directories": lambda value: _string_list("additional_directories", value),
    "tools": _tool_definitions,
}

_TYPES: dict[str, tuple[type, ...]] = {
    "session_id": (str,),
    "client_name": (str,),
    "model": (str,),
    "reasoning_effort": (str,),
    "reasoning_summary": (str,),
    "working_directory": (str,),
    "config_dir": (str,),
    "agent": (str,),
    "streaming": (bool,),
    "include_sub_agent_streaming_events": (bool,),
    "enable_config_discovery": (bool,),
    "disable_resume": (bool,),
    "provider": (Mapping,),
    "mcp_servers": (Mapping,),
    "infinite_sessions": (Mapping,),
    "model_capabilities": (Mapping,),
    "system_message": (Mapping,),
    "hooks": (Mapping,),
}


def _validate(options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        if value is None:
            continue
        expected = _TYPES.get(key)
        if expected and not isinstance(value, expected):
            names = " or ".join("mapping" if t is Mapping else t.__name__ for t in expected)
            raise TypeError(f"{key} must be a {names}, not {type(value).__name__}")
        arity = _HANDLER_ARITY.get(key)
        if arity is not None:
            check_arity(value, arity, key)
    hooks = options.get("hooks")
    if hooks:
        for name, hook in hooks.items():
            if name not in _HOOK_NAMES:
                close = difflib.get_close_matches(name, sorted(_HOOK_NAMES), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown hook {name!r}{hint}")
            if hook is not None:
                check_arity(hook, 2, f"hook {name!r}")
    for key in ("tools", "commands", "custom_agents"):
        value = options.get(key)
        if value is not None and (isinstance(value, (str, Mapping)) or not isinstance(value, Iterable)):
            raise TypeError(f"{key} must be a list, not {type(value).__name__}")


def build_session_params(session_id: str, options: Mapping[str, Any], *, resume: bool) -> dict[str, Any]:
    """The params of ``session.create``/``session.resume`` for these (already checked) options."""
    _validate(options)
    params: dict[str, Any] = {"sessionId": session_id}
    for key, wire in _WIRE_KEYS.items():
        if key == "session_id":
            continue
        value = options.get(key)
        if value is None:
            continue
        converter = _CONVERTERS.get(key)
        params[wire] = converter(value) if converter else value
    params["requestPermission"] = options.get("on_permission_request") is not None
    if options.get("on_user_input_request") is not None:
        params["requestUserInput"] = True
    params["requestElicitation"] = options.get("on_elicitation_request") is not None
    params["requestExitPlanMode"] = False
    params["requestAutoModeSwitch"] = False
    hooks = options.get("hooks") or {}
    if any(callable(hook) for hook in hooks.values()):
        params["hooks"] = True
    commands = options.get("commands")
    if commands:
        params["commands"] = _command_definitions(commands)
    params.setdefault("includeSubAgentStreamingEvents", True)
    params["envValueMode"] = "direct"
    params["toolFilterPrecedence"] = "excluded"
    if resume and options.get("disable_resume"):
        params["disableResume"] = True
    return params
