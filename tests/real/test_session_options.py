"""Session options under the official SDK's names, seen working on the real CLI: what the
scripted model is sent (system prompt, tools), or what the CLI reports back (issue 15)."""

from __future__ import annotations

import json

import pytest

from copilot_sync import JsonRpcError, define_tool

from .conftest import open_session

INSTRUCTIONS = "Always mention the word PINEAPPLE-MARKER."


def one_turn(session, model):
    """Run one turn; the model request it made."""
    model.add_reply("ok")
    session.send_and_wait("hi", timeout=60)
    return model.requests[-1]


def task_agents(request) -> list[str]:
    """The agent types the built-in ``task`` tool offers the model."""
    for tool in request.tools:
        if tool["function"]["name"] == "task":
            return tool["function"]["parameters"]["properties"]["agent_type"]["enum"]
    raise AssertionError("no task tool")


@pytest.fixture
def repo(tmp_path):
    """A working directory with repository custom instructions."""
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "copilot-instructions.md").write_text(INSTRUCTIONS + "\n")
    return tmp_path


def test_name_names_the_session(client, model):
    session = open_session(client, model, name="Nightly build")
    try:
        assert session.rpc.name.get().name == "Nightly build"
    finally:
        session.disconnect()


def test_skip_custom_instructions_on_create_and_resume(client, model, repo):
    plain = open_session(client, model, working_directory=str(repo))
    assert "PINEAPPLE-MARKER" in one_turn(plain, model).system_prompt
    session_id = plain.session_id
    plain.disconnect()

    skipping = open_session(
        client, model, working_directory=str(repo), skip_custom_instructions=True
    )
    assert "PINEAPPLE-MARKER" not in one_turn(skipping, model).system_prompt
    skipping.disconnect()

    resumed = client.resume_session(
        session_id, model=model.model, provider=model.provider(), working_directory=str(repo),
        skip_custom_instructions=True,
    )  # fmt: skip
    try:
        assert "PINEAPPLE-MARKER" not in one_turn(resumed, model).system_prompt
    finally:
        resumed.disconnect()


def test_excluded_builtin_agents_are_not_offered(client, model):
    plain = open_session(client, model)
    assert "explore" in task_agents(one_turn(plain, model))
    plain.disconnect()
    session = open_session(client, model, excluded_builtin_agents=["explore"])
    try:
        agents = task_agents(one_turn(session, model))
        assert "explore" not in agents and "general-purpose" in agents
    finally:
        session.disconnect()


def test_default_agent_excluded_tools_manage_schedule_and_builtin_skills(client, model):
    plain = open_session(client, model)
    tools = set(one_turn(plain, model).tool_names)
    assert {"view", "skill"} <= tools and "manage_schedule" not in tools
    plain.disconnect()
    session = open_session(
        client, model, default_agent={"excluded_tools": ["view"]}, manage_schedule_enabled=True,
        included_builtin_skills=[],
    )  # fmt: skip
    try:
        tools = set(one_turn(session, model).tool_names)
        assert "view" not in tools and "manage_schedule" in tools and "skill" not in tools
    finally:
        session.disconnect()


def test_agent_and_instruction_directories_and_organization_instructions(client, model, tmp_path):
    agents = tmp_path / "agents"
    agents.mkdir()
    agent = "---\nname: zebra\ndescription: ZEBRA-MARKER herds zebras\n---\nYou herd zebras.\n"
    (agents / "zebra.agent.md").write_text(agent)
    instructions = tmp_path / "instructions"
    instructions.mkdir()
    (instructions / "extra.instructions.md").write_text(
        "---\napplyTo: '**'\n---\nINSTRUCTION-DIR-MARKER\n"
    )
    session = open_session(
        client, model, agent_directories=[str(agents)], instruction_directories=[str(instructions)],
        organization_custom_instructions="ORGANIZATION-MARKER",
    )  # fmt: skip
    try:
        request = one_turn(session, model)
        assert "ZEBRA-MARKER" in json.dumps(request.tools)
        assert "INSTRUCTION-DIR-MARKER" in request.system_prompt
        assert "ORGANIZATION-MARKER" in request.system_prompt
    finally:
        session.disconnect()


def test_disabled_mcp_servers_are_not_started(client, model):
    servers = {"broken": {"command": "/nonexistent/mcp-server", "args": [], "tools": ["*"]}}
    session = open_session(client, model, mcp_servers=servers, disabled_mcp_servers=["broken"])
    try:
        listed = session.rpc.mcp.list()
        assert [(s.name, s.status) for s in listed.servers] == [("broken", "disabled")]
        assert listed.host.disabled_servers == ["broken"]
    finally:
        session.disconnect()


def test_file_change_tracking_and_trusting_the_working_directory(client, model, tmp_path):
    plain = open_session(client, model, working_directory=str(tmp_path))
    assert plain.rpc.history.list_rewind_points().file_change_tracking_enabled is False
    assert plain.rpc.permissions.folder_trust.is_trusted(path=str(tmp_path)).trusted is False
    plain.disconnect()
    session = open_session(
        client, model, working_directory=str(tmp_path), enable_file_change_tracking=True,
        trust_working_directory="session",
    )  # fmt: skip
    try:
        assert session.rpc.history.list_rewind_points().file_change_tracking_enabled is True
        assert session.rpc.permissions.folder_trust.is_trusted(path=str(tmp_path)).trusted is True
    finally:
        session.disconnect()


def test_large_output_goes_to_a_file(client, model, tmp_path):
    @define_tool
    def big_output() -> str:
        """Return a long text."""
        return "X" * 5000

    session = open_session(
        client, model, tools=[big_output], on_permission_request=lambda request, invocation: "approve-once",
        large_output={"enabled": True, "max_size_bytes": 1000, "output_directory": str(tmp_path)},
    )  # fmt: skip
    try:
        model.add_tool_call("big_output", {})
        model.add_reply("done")
        session.send_and_wait("go", timeout=60)
        result = model.requests[-1].tool_results[0]["content"]
        saved = list(tmp_path.iterdir())
        assert len(saved) == 1 and str(saved[0]) in result and "X" * 5000 not in result
        assert saved[0].read_text() == "X" * 5000
    finally:
        session.disconnect()


def test_session_limits_reach_the_cli(client, model):
    with pytest.raises(JsonRpcError, match="Minimum session limit is 30"):
        open_session(client, model, session_limits={"max_ai_credits": 1})
    session = open_session(client, model, session_limits={"max_ai_credits": 50})
    session.disconnect()
