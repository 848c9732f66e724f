"""Asking the user: let the agent ask questions mid-turn, and answer them from Python.

    python examples/ask_user.py            # answers come from a table of canned answers
    python examples/ask_user.py --ask      # you type the answers (input())

Passing ``on_user_input_request`` gives the model the CLI's ``ask_user`` tool. When the
model calls it, the handler runs on a worker thread with the question (and the choices,
if the model offered some) and returns ``{"answer": ..., "wasFreeform": ...}``, or just the
answer string. The model then reads "User selected: ..." or "User responded: ...".

With GitHub auth (GITHUB_TOKEN, GH_TOKEN or COPILOT_GITHUB_TOKEN, or a logged-in CLI) it
talks to GitHub Copilot; without it, it runs offline against a scripted local model.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from copilot_sync import CopilotClient
from copilot_sync.testing import ModelRequest, Reply, ScriptedModelServer, ToolCall

#: Canned answers, by a keyword of the question.
CANNED = {"colour": "blue", "color": "blue", "name": "Ada", "city": "Lisbon"}


def answer_from_table(request: dict[str, Any], invocation: dict[str, Any]) -> dict[str, Any]:
    question: str = request["question"]
    choices: list[str] = request.get("choices") or []
    answer = next(
        (a for key, a in CANNED.items() if key in question.lower()),
        choices[0] if choices else "no idea",
    )
    print(f"  [ask_user] {question}" + (f" {choices}" if choices else "") + f" -> {answer}")
    return {"answer": answer, "wasFreeform": answer not in choices}


def answer_from_terminal(request: dict[str, Any], invocation: dict[str, Any]) -> str:
    choices: list[str] = request.get("choices") or []
    hint = f" ({' / '.join(choices)})" if choices else ""
    return input(
        f"  [ask_user] {request['question']}{hint}: "
    ).strip()  # a plain string is fine too


def converse(client: CopilotClient, handler: Callable[..., Any], **model_options: Any) -> None:
    with client.create_session(on_user_input_request=handler, **model_options) as session:
        prompt = (
            "Use the ask_user tool to ask me my favourite colour (offer red, green and blue) and then my name. "
            "Then greet me in one sentence that mentions both."
        )
        print(f"you: {prompt}")
        reply = session.send_and_wait(prompt, timeout=300)  # the user may take a while to answer
        print(f"assistant: {reply.data.content if reply else '(no reply)'}")


def offline_model() -> ScriptedModelServer:
    """A stand-in for the model: two questions, one at a time, then a greeting built from
    the answers it read."""
    questions = [
        ToolCall(
            "ask_user",
            {"question": "What is your favourite colour?", "choices": ["red", "green", "blue"]},
        ),
        ToolCall("ask_user", {"question": "What is your name?"}),
    ]

    def respond(request: ModelRequest) -> Reply:
        last_user = max(
            (i for i, m in enumerate(request.messages) if m.get("role") == "user"), default=-1
        )
        answers = [
            str(m.get("content"))
            for m in request.messages[last_user + 1 :]
            if m.get("role") == "tool"
        ]
        if len(answers) < len(questions):
            return Reply(tool_calls=[questions[len(answers)]])
        colour, name = (
            a.split(": ", 1)[-1] for a in answers
        )  # "User selected: blue", "User responded: Ada"
        return Reply(
            text=f"Hello {name}, a fine person whose favourite colour is {colour}! (I read: {answers})"
        )

    return ScriptedModelServer(responder=respond)


def main(argv: list[str]) -> int:
    handler = answer_from_terminal if "--ask" in argv else answer_from_table
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
            converse(client, handler)
        else:
            print(
                "No GitHub auth found: running offline, the real CLI with a scripted local model."
            )
            with offline_model() as model:
                converse(client, handler, model=model.model, provider=model.provider())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
