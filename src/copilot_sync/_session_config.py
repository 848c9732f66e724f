"""Session options: checking the keywords of ``create_session``/``resume_session`` and
building the params of ``session.create``/``session.resume``.

The options are declared in ``_session_options.py`` (``SessionOptions``/``ResumeOptions``,
the official Python SDK's names); their wire fields and value shapes are in
``_session_wire.py``. An unknown keyword raises ``TypeError`` naming it, with a close match
when there is one.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from ._fields import is_mapping
from ._requests.arity import check_arity
from ._requests.canvas import check_canvas_handler
from ._requests.commands import as_command
from ._requests.define_tool import tool_table
from ._requests.skill_provider import check_skill_provider
from ._session_options import (
    AutopilotOptions,
    CapiOptions,
    DefaultAgentConfig,
    GitHubMcpToolConfig,
    ImageGenerationConfig,
    InfiniteSessionConfig,
    LargeOutputConfig,
    MemoryConfig,
    NamedProviderConfig,
    ProviderConfig,
    ProviderModelConfig,
    ResumeOptions,
    SessionLimitsConfig,
    SessionOptions,
    ToolSearchConfig,
)
from ._session_wire import SHAPES, WIRE_KEYS, camel
from ._tracing import outgoing

__all__ = [
    "CREATE_OPTIONS",
    "LOCAL_OPTIONS",
    "RESUME_OPTIONS",
    "build_session_params",
    "camel",
    "check_arity",
    "check_options",
    "transform_callbacks",
]

logger = logging.getLogger("copilot_sync.session")

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
        "on_exit_plan_mode_request",
        "on_auto_mode_switch_request",
        "on_mcp_auth_request",
        "github_token_provider",  # the client registers it; the wire gets its registration id
        "skill_provider",  # answers skillProvider.list/read; the wire gets hasSkillProvider
        "canvas_handler",  # answers canvas.open/close/action.invoke
    }
)

CREATE_OPTIONS = frozenset(SessionOptions.__annotations__)
#: ``session_id`` is resume_session's first argument; as a keyword it must say the same.
RESUME_OPTIONS = frozenset(ResumeOptions.__annotations__) | {"session_id"}

#: Two names for one wire field: the official SDK's first, then the older one.
_ALIASES = (("config_directory", "config_dir"), ("suppress_resume_event", "disable_resume"))

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
    "on_exit_plan_mode_request": 2,
    "on_auto_mode_switch_request": 2,
    "on_mcp_auth_request": 2,
    "github_token_provider": 1,
}


def check_options(options: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """Raise ``TypeError`` for the first keyword that is not an option."""
    for key in options:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{where}() got an unexpected keyword argument {key!r}{hint}")


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
#: The system prompt's sections in CLI 1.0.81.
SYSTEM_SECTIONS = (
    "preamble", "identity", "tone", "tool_efficiency", "environment_context", "code_change_rules", "guidelines",
    "safety", "tool_instructions", "custom_instructions", "runtime_instructions", "last_instructions",
)  # fmt: skip
_SECTION_ACTIONS = ("replace", "remove", "append", "prepend", "preserve", "transform")


def _section_transform(section: Any) -> Callable[[str], Any] | None:
    if callable(section):
        return cast("Callable[[str], Any]", section)
    if is_mapping(section):
        action: Any = section.get("action")
        if callable(action):
            return cast("Callable[[str], Any]", action)
    return None


def transform_callbacks(system_message: Any) -> dict[str, Callable[[str], Any]]:
    """The callable section transforms of a ``customize`` system message, by section id."""
    if not is_mapping(system_message):
        return {}
    sections = system_message.get("sections")
    if not is_mapping(sections):
        return {}
    callbacks: dict[str, Callable[[str], Any]] = {}
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
        raise ValueError(
            f"system_message mode must be one of {', '.join(_SYSTEM_MODES)}; got {mode!r}"
        )
    unknown = sorted(set(value) - {"mode", "content", "sections"})
    if unknown:
        raise TypeError(
            f"system_message has no key {unknown[0]!r}; it takes mode, content and sections"
        )
    if value.get("content") is not None and not isinstance(value["content"], str):
        raise TypeError("system_message content must be a string")
    wire = {key: item for key, item in value.items() if key != "sections"}
    sections = value.get("sections")
    if sections is None:
        return wire
    if mode != "customize":
        raise ValueError("system_message sections need mode 'customize'")
    if not is_mapping(sections):
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
        if not is_mapping(section):
            raise TypeError(
                f"section {section_id!r} must be a dict like {{'action': 'append', 'content': ...}} or a callable"
            )
        action = section.get("action")
        if action not in _SECTION_ACTIONS:
            raise ValueError(
                f"section {section_id!r}: action must be one of {', '.join(_SECTION_ACTIONS)} or a callable; got {action!r}"
            )
        wire_sections[section_id] = dict(section)
    wire["sections"] = wire_sections
    return wire


#: Conversions of the options built here (the rest are in ``_session_wire.SHAPES``).
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    **SHAPES,
    "system_message": _system_message,
    "tools": _tool_definitions,
}

_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "session_id", "name", "client_name", "model", "reasoning_effort", "reasoning_summary", "context_tier",
            "working_directory", "config_directory", "config_dir", "agent", "auth_client_id_metadata_url",
            "organization_custom_instructions", "ask_user_variant", "trust_working_directory",
            "mcp_oauth_token_storage", "embedding_cache_storage", "github_token", "extension_sdk_path",
        ),
        (str,),
    ),
    **dict.fromkeys(
        (
            "streaming", "include_sub_agent_streaming_events", "enable_config_discovery", "enable_experimental_mode",
            "enable_session_telemetry", "enable_citations", "enable_file_change_tracking", "skip_custom_instructions",
            "refresh_custom_instructions", "custom_agents_local_only", "coauthor_enabled", "manage_schedule_enabled",
            "skip_embedding_retrieval", "enable_on_demand_instruction_discovery", "enable_file_hooks",
            "enable_host_git_operations", "enable_session_store", "enable_skills", "enable_mcp_apps",
            "enable_managed_settings", "enforce_managed_model_defaults", "interactive_user",
            "continue_pending_work", "suppress_resume_event", "disable_resume", "allow_transcript_recovery",
            "request_canvas_renderer", "request_extensions",
        ),
        (bool,),
    ),
    **dict.fromkeys(
        (
            "provider", "mcp_servers", "infinite_sessions", "model_capabilities", "system_message", "hooks", "capi",
            "session_limits", "autopilot", "large_output", "memory", "default_agent", "tool_search",
            "image_generation", "github_mcp_tool_config", "feature_flags", "exp_assignments", "managed_settings",
        ),
        (Mapping,),
    ),
}  # fmt: skip

#: Options the CLI takes only a few values of (it refuses the others).
_CHOICES: dict[str, tuple[str, ...]] = {
    "ask_user_variant": ("legacy", "elicitation"),
    "trust_working_directory": ("session", "user"),
    "mcp_oauth_token_storage": ("persistent", "in-memory"),
    "embedding_cache_storage": ("persistent", "in-memory"),
}


#: Options whose dict has a declared set of keys: a key outside it is refused (a typo).
_DECLARED_KEYS: dict[str, type] = {
    "provider": ProviderConfig,
    "providers": NamedProviderConfig,
    "models": ProviderModelConfig,
    "infinite_sessions": InfiniteSessionConfig,
    "session_limits": SessionLimitsConfig,
    "autopilot": AutopilotOptions,
    "large_output": LargeOutputConfig,
    "memory": MemoryConfig,
    "default_agent": DefaultAgentConfig,
    "tool_search": ToolSearchConfig,
    "image_generation": ImageGenerationConfig,
    "capi": CapiOptions,
    "github_mcp_tool_config": GitHubMcpToolConfig,
}
#: Keys taken besides the declared ones (and their camelCase): wire spellings, or refused later
#: with a message of their own.
_OTHER_KEYS = frozenset({"outputDir", "bearer_token_provider", "bearerTokenProvider"})


def _check_keys(option: str, value: Any) -> None:
    shape = _DECLARED_KEYS.get(option)
    if shape is None:
        return
    allowed = set(shape.__annotations__)
    known = allowed | {camel(key) for key in allowed} | _OTHER_KEYS
    items = [value] if is_mapping(value) else [item for item in value if is_mapping(item)]
    for item in items:
        for key in item:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; it takes {', '.join(sorted(allowed))}"
                )
                raise TypeError(f"{option} has no key {key!r}{hint}")


def _validate(options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        if value is None:
            continue
        expected = _TYPES.get(key)
        if expected and not isinstance(value, expected):
            names = " or ".join("mapping" if t is Mapping else t.__name__ for t in expected)
            raise TypeError(f"{key} must be a {names}, not {type(value).__name__}")
        choices = _CHOICES.get(key)
        if choices and value not in choices:
            raise ValueError(f"{key} must be one of {', '.join(map(repr, choices))}; got {value!r}")
        arity = _HANDLER_ARITY.get(key)
        if arity is not None:
            check_arity(value, arity, key)
        if isinstance(value, Iterable) and not isinstance(value, str):
            _check_keys(key, value)
    if options.get("skill_provider") is not None:
        check_skill_provider(options["skill_provider"])
    if options.get("canvas_handler") is not None:
        check_canvas_handler(options["canvas_handler"])
    hooks = options.get("hooks")
    if hooks:
        for name, hook in hooks.items():
            if name not in _HOOK_NAMES:
                close = difflib.get_close_matches(name, sorted(_HOOK_NAMES), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown hook {name!r}{hint}")
            if hook is not None:
                check_arity(hook, 2, f"hook {name!r}")
    if options.get("github_token") is not None and options.get("github_token_provider") is not None:
        raise ValueError(
            "github_token and github_token_provider are two ways to give one identity; give one"
        )
    identity = next(
        (key for key in ("github_token", "github_token_provider") if options.get(key) is not None),
        None,
    )
    if identity is not None and options.get("provider") is not None:
        raise ValueError(
            f"{identity} is for sessions on Copilot's models; a BYOK provider= has its own api_key "
            "(the CLI refuses both)"
        )
    if options.get("github_token") == "":
        raise ValueError("github_token must not be empty")
    for first, older in _ALIASES:
        if (
            options.get(first) is not None
            and options.get(older) is not None
            and options[first] != options[older]
        ):
            raise ValueError(f"{first} and {older} are two names of one option; give one")
    for key in ("tools", "commands", "custom_agents", "providers", "models"):
        value = options.get(key)
        if value is not None and (
            isinstance(value, str) or is_mapping(value) or not isinstance(value, Iterable)
        ):
            raise TypeError(f"{key} must be a list, not {type(value).__name__}")


def build_session_params(
    session_id: str, options: Mapping[str, Any], *, resume: bool
) -> dict[str, Any]:
    """The params of ``session.create``/``session.resume`` for these options, already checked
    by ``check_options`` against ``CREATE_OPTIONS``/``RESUME_OPTIONS`` (which is what ``resume``
    changes: the wire fields are the same)."""
    _validate(options)
    params: dict[str, Any] = {"sessionId": session_id}
    for key, value in options.items():
        wire = WIRE_KEYS.get(key)
        if wire is None or value is None or key == "session_id":
            continue
        converter = _CONVERTERS.get(key)
        params[wire] = converter(value) if converter else value
    params["requestPermission"] = options.get("on_permission_request") is not None
    if options.get("on_user_input_request") is not None:
        params["requestUserInput"] = True
    params["requestElicitation"] = options.get("on_elicitation_request") is not None
    params["requestExitPlanMode"] = options.get("on_exit_plan_mode_request") is not None
    params["requestAutoModeSwitch"] = options.get("on_auto_mode_switch_request") is not None
    if options.get("skill_provider") is not None:
        params["hasSkillProvider"] = True
    hooks: Mapping[str, Any] = options.get("hooks") or {}
    if any(callable(hook) for hook in hooks.values()):
        params["hooks"] = True
    commands = options.get("commands")
    if commands:
        params["commands"] = _command_definitions(commands)
    params.setdefault("includeSubAgentStreamingEvents", True)
    params["envValueMode"] = "direct"
    params["toolFilterPrecedence"] = "excluded"
    params.update(outgoing())  # the current span's traceparent/tracestate (docs/TRACING.md)
    return params
