"""Test kit for code that uses copilot-sync (public).

- :class:`FakeCLI`: a scripted fake Copilot CLI speaking the real wire protocol, spawned
  over pipes like the real CLI or served over TCP, that can misbehave on demand.
- :class:`ScriptedModelServer`: an OpenAI-compatible chat-completions server on
  127.0.0.1 whose replies (text, streamed or not, and tool calls) a test scripts; the
  real CLI uses it through a session's ``provider`` option, fully offline.

Rules for the fake take actions from :mod:`copilot_sync.testing.actions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fake_cli import FakeCLI, FakeCLIError, FakeCLITimeout, Instance, Rule, Scenario
    from ._model_server import ModelRequest, Reply, ScriptedModelServer, ToolCall

__all__ = [
    "FakeCLI",
    "FakeCLIError",
    "FakeCLITimeout",
    "Instance",
    "ModelRequest",
    "Reply",
    "Rule",
    "Scenario",
    "ScriptedModelServer",
    "ToolCall",
]

_LAZY = {
    "FakeCLI": "._fake_cli",
    "FakeCLIError": "._fake_scenario",
    "FakeCLITimeout": "._fake_scenario",
    "Instance": "._fake_cli",
    "Rule": "._fake_scenario",
    "Scenario": "._fake_scenario",
    "ModelRequest": "._model_types",
    "Reply": "._model_types",
    "ScriptedModelServer": "._model_server",
    "ToolCall": "._model_types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'copilot_sync.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
