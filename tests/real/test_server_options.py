"""Server-shaping client options and the session's ``skill_provider`` on the real CLI with
the scripted model: the CLI starts with all of them, keeps its data under
``base_directory``, writes its own spans to the ``telemetry`` file, and asks the skill
provider for its catalog and for the skill the model uses.

Not here, and why: ``installation_confirmation_handler`` needs an installation planned
through GitHub's catalog (online); it is covered on the fake CLI."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from copilot_sync import CopilotClient, SkillDescriptor

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
SKILL = """---
name: release-notes
description: Write release notes for a tag
---
Reply with the words NOTES-OK.
"""


class Shelf:
    """A skill provider over a dict, recording which thread served which call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def list_skills(self) -> list[SkillDescriptor]:
        with self._lock:
            self.calls.append(("list", threading.current_thread().name))
        return [SkillDescriptor("release-notes", "Write release notes for a tag")]

    def read_skill(self, name: str) -> str | None:
        with self._lock:
            self.calls.append((f"read {name}", threading.current_thread().name))
        return SKILL if name == "release-notes" else None


def test_server_options_and_a_skill_provider_on_the_real_cli(cli_env, real_cli, model, tmp_path):
    home = tmp_path / "copilot-home"
    plugins = tmp_path / "bundled-plugins"
    plugins.mkdir()
    spans = tmp_path / "spans.jsonl"
    env = {k: v for k, v in cli_env.items() if k != "COPILOT_HOME"}
    shelf = Shelf()
    model.add_tool_call("skill", {"skill": "release-notes"}, call_id="k1")
    model.add_reply("Done.")
    with CopilotClient(
        cli_path=real_cli.path,
        env=env,
        base_directory=str(home),
        client_info={"application_name": "sync-tests", "application_version": "1.0.0"},
        session_idle_timeout_seconds=600,
        builtin_plugin_directories=[str(plugins)],
        telemetry={"exporter_type": "file", "file_path": str(spans)},
    ) as client:
        session = client.create_session(
            model=model.model, provider=model.provider(), skill_provider=shelf
        )
        reply = session.send_and_wait("write the release notes", timeout=TIMEOUT)
        assert reply.data.content == "Done."
    assert [call for call, _ in shelf.calls] == ["list", "read release-notes"]
    assert all(thread.startswith("copilot-worker") for _, thread in shelf.calls)
    # the catalog reached the model, and the skill's text came back as the tool's result
    first = json.dumps(model.requests[0].body)
    assert "release-notes" in first and "Write release notes for a tag" in first
    (result,) = model.requests[1].tool_results
    assert result["tool_call_id"] == "k1" and "release-notes" in result["content"]
    # the CLI kept its state under base_directory, and exported spans to the file
    assert (home / "session-state").is_dir()
    assert spans.is_file() and spans.stat().st_size > 0
    first_span = json.loads(spans.read_text().splitlines()[0])
    assert isinstance(first_span, dict)
    assert not os.path.exists(Path(cli_env["COPILOT_HOME"]) / "spans.jsonl")
