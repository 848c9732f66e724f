"""``CopilotClient(mode="empty")``: sessions that start from nothing and opt in one by one.

The CLI has no such mode: the SDK turns it into session options. In ``"empty"`` mode every
``create_session``/``resume_session``:

* must name its tools (``available_tools``), e.g. the built-in tools that stay inside the
  session, :data:`BUILTIN_TOOLS_ISOLATED`;
* gets restrictive defaults for the options it does not set (a value you pass wins): no
  environment context in the system prompt, no telemetry, no custom instructions, skills,
  plugins, file hooks, host git operations, memory or session store; OAuth tokens and
  the embedding cache in memory only.

The client itself must keep its state somewhere explicit (``base_directory``, a
``session_fs``, or a server of its own given by ``cli_url``), never the user's
``~/.copilot``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from ._fields import is_mapping

__all__ = ["BUILTIN_TOOLS_ISOLATED", "MODES", "ClientMode", "apply_mode", "check_mode"]

#: What ``CopilotClient(mode=...)`` takes.
ClientMode = Literal["copilot-cli", "empty"]
MODES: tuple[str, ...] = ("copilot-cli", "empty")

#: Built-in tools that act only inside their session (no host files, no network, no other
#: sessions): ``available_tools=[f"builtin:{name}" for name in BUILTIN_TOOLS_ISOLATED]``.
BUILTIN_TOOLS_ISOLATED: tuple[str, ...] = (
    "ask_user", "task_complete", "exit_plan_mode", "task", "read_agent", "write_agent",
    "list_agents", "send_inbox", "context_board", "skill",
)  # fmt: skip

#: The defaults of ``"empty"`` mode, for the options a call leaves unset.
_EMPTY_DEFAULTS: dict[str, Any] = {
    "enable_session_telemetry": False,
    "skip_embedding_retrieval": True,
    "embedding_cache_storage": "in-memory",
    "mcp_oauth_token_storage": "in-memory",
    "memory": {"enabled": False},
    "enable_on_demand_instruction_discovery": False,
    "enable_file_hooks": False,
    "enable_host_git_operations": False,
    "enable_session_store": False,
    "enable_skills": False,
    "enable_experimental_mode": False,
    "custom_agents_local_only": True,
    "skip_custom_instructions": True,
    "coauthor_enabled": False,
    "manage_schedule_enabled": False,
    "included_builtin_skills": [],
}

#: Wire fields ``"empty"`` mode adds that no option sets (no plugins at all).
EMPTY_WIRE: dict[str, Any] = {"installedPlugins": []}

_REMOVE = {"action": "remove"}


def check_mode(mode: Any, *, base_directory: Any, session_fs: Any, cli_url: Any) -> ClientMode:
    """The checked ``mode`` of a client being built."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    if mode == "empty" and base_directory is None and session_fs is None and cli_url is None:
        raise ValueError(
            "CopilotClient(mode='empty') needs explicit storage: base_directory, session_fs or "
            "cli_url (a server of your own); it never falls back to ~/.copilot"
        )
    checked: ClientMode = mode
    return checked


def _system_message(supplied: Any) -> Any:
    """Strip the environment context, unless the caller's message already decides it."""
    if supplied is None:
        return {"mode": "customize", "sections": {"environment_context": dict(_REMOVE)}}
    if not is_mapping(supplied):
        return supplied  # refused later with the option's own message
    mode = supplied.get("mode", "append")
    if mode == "replace":
        return supplied
    sections: Any = supplied.get("sections") or {}
    if mode == "customize":
        if not is_mapping(sections) or "environment_context" in sections:
            return supplied
        return {**supplied, "sections": {**sections, "environment_context": dict(_REMOVE)}}
    # append: customize keeps the caller's content (the CLI appends it in both modes)
    result: dict[str, Any] = {"mode": "customize", "sections": {"environment_context": dict(_REMOVE)}}  # fmt: skip
    if supplied.get("content") is not None:
        result["content"] = supplied["content"]
    return result


def apply_mode(mode: ClientMode, options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``options`` with ``mode``'s defaults filled in (``ValueError`` for what it requires)."""
    result = dict(options)
    if mode != "empty":
        return result
    if result.get("available_tools") is None:
        raise ValueError(
            f"{where}() on a client in mode='empty' needs available_tools: every session names "
            "the tools it wants, e.g. [f'builtin:{name}' for name in BUILTIN_TOOLS_ISOLATED]"
        )
    for key, value in _EMPTY_DEFAULTS.items():
        if result.get(key) is None:
            result[key] = copy.deepcopy(value)  # a fresh dict/list per session
    result["system_message"] = _system_message(result.get("system_message"))
    return result
