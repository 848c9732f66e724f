"""Quickstart: a short conversation with the GitHub Copilot CLI, using blocking calls.

    python examples/quickstart.py

With GitHub auth (GITHUB_TOKEN, GH_TOKEN or COPILOT_GITHUB_TOKEN in the environment, or a
CLI that is already logged in) it talks to GitHub Copilot. Without it, it runs offline:
the same real CLI, with its model requests served by the project's scripted model server
on 127.0.0.1. It says which at the start.
"""

from __future__ import annotations

import os
import sys

from copilot_sync import CopilotClient, SessionOptions
from copilot_sync.testing import ModelRequest, Reply, ScriptedModelServer


def converse(client: CopilotClient, model_options: SessionOptions | None = None) -> None:
    options: SessionOptions = {"streaming": True, **(model_options or {})}
    with client.create_session(**options) as session:
        question = "In one sentence: why would a Python script want a synchronous SDK?"
        print(f"you: {question}")
        reply = session.send_and_wait(question, timeout=120)
        print(f"assistant: {reply.data.content if reply else '(no reply)'}")

        follow_up = "And what did I just ask you? Answer in a few words."
        print(f"you: {follow_up}")
        print("assistant (streamed): ", end="", flush=True)
        for event in session.stream(follow_up, timeout=120):
            if event.type == "assistant.message_delta":
                print(event.data.delta_content, end="", flush=True)
        print()


def offline_model() -> ScriptedModelServer:
    """A stand-in for the model that answers these two questions sensibly."""

    def answer(request: ModelRequest) -> Reply:
        asked = request.last_user_message
        if "what did I just ask" in asked:
            earlier = [m for m in request.messages if m.get("role") == "user"]
            first = str(earlier[0].get("content", "")) if earlier else ""
            topic = (
                "why a script would want a synchronous SDK"
                if "synchronous SDK" in first
                else "nothing yet"
            )
            return Reply(text=f"You asked {topic}.")
        return Reply(
            text="Because a plain script, a notebook cell or an old synchronous codebase can then "
            "call Copilot with ordinary blocking calls, no event loop required."
        )

    return ScriptedModelServer(responder=answer)


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
        print(
            f"Copilot CLI {client.server_version} (protocol {client.protocol_version}), found via {client.cli_source}"
        )
        auth = client.get_auth_status()
        if auth.is_authenticated:
            print(f"Using GitHub Copilot, signed in as {auth.login or 'you'}.")
            converse(client)
        else:
            print(
                "No GitHub auth found: running offline, the real CLI with a scripted local model."
            )
            with offline_model() as model:
                converse(client, {"model": model.model, "provider": model.provider()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
