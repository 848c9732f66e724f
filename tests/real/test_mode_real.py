"""``CopilotClient(mode="empty")`` on the real CLI with the scripted model: the session runs,
its system prompt has no environment context (the working directory is not in it), and the
tools are only the isolated built-ins it asked for, minus the skill tool (skills are off)."""

from __future__ import annotations

import pytest

from copilot_sync import BUILTIN_TOOLS_ISOLATED, CopilotClient

pytestmark = pytest.mark.timeout(120)

TOOLS = [f"builtin:{name}" for name in BUILTIN_TOOLS_ISOLATED]


def _prompt_and_tools(real_cli, cli_env, model, tmp_path, mode):
    workdir = tmp_path / f"workdir-{mode}"
    workdir.mkdir()
    base = tmp_path / f"base-{mode}"
    with CopilotClient(cli_path=real_cli.path, env=cli_env, mode=mode, base_directory=str(base)) as client:  # fmt: skip
        model.add_reply(f"hello from {mode}")
        session = client.create_session(
            model=model.model, provider=model.provider(), working_directory=str(workdir),
            available_tools=TOOLS,
        )  # fmt: skip
        assert session.send_and_wait("hi", timeout=60).data.content == f"hello from {mode}"
    request = model.requests[-1]
    return str(workdir) in (request.system_prompt or ""), set(request.tool_names)


def test_empty_mode_leaves_out_the_environment_and_skills(real_cli, cli_env, model, tmp_path):
    full_env, full_tools = _prompt_and_tools(real_cli, cli_env, model, tmp_path, "copilot-cli")
    empty_env, empty_tools = _prompt_and_tools(real_cli, cli_env, model, tmp_path, "empty")
    assert full_env and not empty_env
    assert "skill" in full_tools and "skill" not in empty_tools
    assert empty_tools and empty_tools <= set(BUILTIN_TOOLS_ISOLATED)
