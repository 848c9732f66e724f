"""Hooks: watch and steer the agent loop from your own code.

    python examples/hooks.py

The CLI calls each hook synchronously and waits for its answer. Here:

* ``on_user_prompt_submitted`` expands a team shorthand in the prompt, so the model
  receives the rewritten prompt (``modifiedPrompt``);
* ``on_pre_tool_use`` logs every tool call and blocks one (``permissionDecision: "deny"``);
* ``on_post_tool_use`` logs what each tool returned;
* ``on_session_start`` / ``on_session_end`` mark the start and the end of the agent loop.

Hook inputs and outputs are dicts with the wire's camelCase keys. A hook that returns
``None`` has no opinion; one that raises is logged and ignored.

With GitHub auth (GITHUB_TOKEN, GH_TOKEN or COPILOT_GITHUB_TOKEN, or a logged-in CLI) it
talks to GitHub Copilot; without it, it runs offline against a scripted local model.
"""

from __future__ import annotations

import os
import sys
from typing import Any, cast

from copilot_sync import CopilotClient, PermissionHandler, define_tool
from copilot_sync.testing import ModelRequest, Reply, ScriptedModelServer, ToolCall

SHORTHANDS = {"tz": "time zone", "ETA": "estimated time of arrival"}
BLOCKED_CITIES = {"Atlantis"}
CLOCKS = {"Tokyo": "UTC+9", "Lisbon": "UTC+0", "Atlantis": "?"}


@define_tool
def time_zone(city: str) -> str:
    """The time zone of a city."""
    return f"{city} is in {CLOCKS.get(city, 'an unknown zone')}"


def expand_shorthands(
    hook_input: dict[str, Any], invocation: dict[str, Any]
) -> dict[str, Any] | None:
    prompt: str = hook_input["prompt"]
    expanded = " ".join(SHORTHANDS.get(word, word) for word in prompt.split(" "))
    if expanded == prompt:
        return None
    print(f"  [hook] prompt rewritten: {prompt!r} -> {expanded!r}")
    return {"modifiedPrompt": expanded}


def before_tool(hook_input: dict[str, Any], invocation: dict[str, Any]) -> dict[str, Any] | None:
    name: str = hook_input["toolName"]
    args: dict[str, Any] = hook_input.get("toolArgs") or {}
    if name == "time_zone" and args.get("city") in BLOCKED_CITIES:
        print(f"  [hook] blocked {name}({args})")
        return {
            "permissionDecision": "deny",
            "permissionDecisionReason": f"{args['city']} is not a real city",
        }
    print(f"  [hook] about to run {name}({args})")
    return None


def after_tool(hook_input: dict[str, Any], invocation: dict[str, Any]) -> None:
    result: Any = hook_input.get("toolResult") or {}
    text = (
        cast("dict[str, Any]", result).get("textResultForLlm")
        if isinstance(result, dict)
        else result
    )
    print(f"  [hook] {hook_input['toolName']} returned {text!r}")


def session_started(hook_input: dict[str, Any], invocation: dict[str, Any]) -> None:
    print(f"  [hook] session start ({hook_input['source']})")


def session_ended(hook_input: dict[str, Any], invocation: dict[str, Any]) -> None:
    print(f"  [hook] session end ({hook_input['reason']})")


def converse(client: CopilotClient, **model_options: Any) -> None:
    with client.create_session(
        tools=[time_zone],
        on_permission_request=PermissionHandler.approve_all,
        hooks={  # a SessionHooks TypedDict: the keys are checked
            "on_user_prompt_submitted": expand_shorthands,
            "on_pre_tool_use": before_tool,
            "on_post_tool_use": after_tool,
            "on_session_start": session_started,
            "on_session_end": session_ended,
        },
        **model_options,
    ) as session:
        question = "Which tz are Tokyo, Lisbon and Atlantis in? Use the time_zone tool for each."
        print(f"you: {question}")
        reply = session.send_and_wait(question, timeout=120)
        print(f"assistant: {reply.data.content if reply else '(no reply)'}")


def offline_model() -> ScriptedModelServer:
    """A stand-in for the model: it calls the tool for each city, then repeats the prompt it
    received (to show the hook's rewrite) and what the tool said."""

    def respond(request: ModelRequest) -> Reply:
        last_user = max(
            (i for i, m in enumerate(request.messages) if m.get("role") == "user"), default=-1
        )
        results = [
            str(m.get("content"))
            for m in request.messages[last_user + 1 :]
            if m.get("role") == "tool"
        ]
        if not results:
            return Reply(tool_calls=[ToolCall("time_zone", {"city": city}) for city in CLOCKS])
        return Reply(text=f"You asked: {request.user_prompt!r}. Answers: " + "; ".join(results))

    return ScriptedModelServer(responder=respond)


def main() -> int:
    token = next(
        (
            os.environ[n]
            for n in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN")
            if os.environ.get(n)
        ),
        None,
    )
    with CopilotClient(github_token=token) as client:
        if client.get_auth_status().is_authenticated:
            print("Using GitHub Copilot.")
            converse(client)
        else:
            print(
                "No GitHub auth found: running offline, the real CLI with a scripted local model."
            )
            with offline_model() as model:
                converse(client, model=model.model, provider=model.provider())
    return 0


if __name__ == "__main__":
    sys.exit(main())
