"""Session options: snake_case keywords to the wire, and clear errors for bad ones."""

from __future__ import annotations

import pytest

from copilot_sync._session_config import CREATE_OPTIONS, RESUME_OPTIONS, build_session_params, check_options

CORE = {
    "session_id", "client_name", "model", "reasoning_effort", "tools", "system_message", "available_tools",
    "excluded_tools", "on_permission_request", "on_user_input_request", "hooks", "working_directory", "provider",
    "streaming", "mcp_servers", "custom_agents", "agent", "config_dir", "skill_directories", "disabled_skills",
    "infinite_sessions", "on_event", "commands", "on_elicitation_request",
}  # fmt: skip


def test_every_core_option_is_accepted():
    assert CORE <= CREATE_OPTIONS
    assert CORE | {"disable_resume"} <= RESUME_OPTIONS
    assert "disable_resume" not in CREATE_OPTIONS


def test_an_unknown_option_names_itself_and_suggests():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'modle'.*did you mean 'model'"):
        check_options({"modle": "x"}, CREATE_OPTIONS, "create_session")


def test_minimal_params_carry_the_fixed_keys():
    params = build_session_params("sid", {}, resume=False)
    assert params == {
        "sessionId": "sid",
        "requestPermission": False,
        "requestElicitation": False,
        "requestExitPlanMode": False,
        "requestAutoModeSwitch": False,
        "includeSubAgentStreamingEvents": True,
        "envValueMode": "direct",
        "toolFilterPrecedence": "excluded",
    }


def test_options_map_to_wire_keys():
    params = build_session_params(
        "sid",
        {
            "client_name": "tests",
            "model": "gpt-x",
            "reasoning_effort": "high",
            "working_directory": "/w",
            "streaming": True,
            "config_dir": "/c",
            "skill_directories": ["/s"],
            "disabled_skills": ["bad"],
            "available_tools": ["view"],
            "excluded_tools": ["shell"],
            "agent": "reviewer",
            "infinite_sessions": {"enabled": True, "background_compaction_threshold": 0.7},
            "system_message": {"mode": "customize", "sections": {"tone": {"action": "remove"}}},
            "provider": {"type": "openai", "base_url": "http://x", "api_key": "k", "wire_api": "completions",
                         "headers": {"x_custom_header": "1"}},
            "on_permission_request": lambda r, i: "approve-once",
            "on_user_input_request": lambda r, i: {"answer": "a", "wasFreeform": True},
            "on_elicitation_request": lambda c: {"action": "cancel"},
            "hooks": {"on_pre_tool_use": lambda i, c: None},
            "commands": [{"name": "deploy", "description": "Deploy it", "handler": print}, {"name": "noop", "handler": print}],
        },  # fmt: skip
        resume=False,
    )
    assert params["clientName"] == "tests" and params["model"] == "gpt-x" and params["reasoningEffort"] == "high"
    assert params["workingDirectory"] == "/w" and params["streaming"] is True and params["configDir"] == "/c"
    assert params["skillDirectories"] == ["/s"] and params["disabledSkills"] == ["bad"]
    assert params["availableTools"] == ["view"] and params["excludedTools"] == ["shell"]
    assert params["agent"] == "reviewer"
    assert params["infiniteSessions"] == {"enabled": True, "backgroundCompactionThreshold": 0.7}
    assert params["systemMessage"] == {"mode": "customize", "sections": {"tone": {"action": "remove"}}}
    assert params["provider"] == {
        "type": "openai", "baseUrl": "http://x", "apiKey": "k", "wireApi": "completions",
        "headers": {"x_custom_header": "1"},
    }  # fmt: skip
    assert params["requestPermission"] is True and params["requestUserInput"] is True
    assert params["requestElicitation"] is True and params["hooks"] is True
    assert params["commands"] == [{"name": "deploy", "description": "Deploy it"}, {"name": "noop", "description": ""}]


def test_mcp_servers_and_custom_agents():
    params = build_session_params(
        "sid",
        {
            "mcp_servers": {"files": {"command": "srv", "args": ["--x_y"], "working_directory": "/d",
                                      "env": {"API_KEY": "1"}}},
            "custom_agents": [{"name": "a", "prompt": "p", "display_name": "A",
                               "mcp_servers": {"m": {"type": "http", "url": "http://m"}}}],
        },  # fmt: skip
        resume=False,
    )
    assert params["mcpServers"] == {"files": {"command": "srv", "args": ["--x_y"], "cwd": "/d", "env": {"API_KEY": "1"}}}
    assert params["customAgents"] == [
        {"name": "a", "prompt": "p", "displayName": "A", "mcpServers": {"m": {"type": "http", "url": "http://m"}}}
    ]


def test_model_capabilities_limits_stay_snake_case():
    params = build_session_params(
        "sid", {"model_capabilities": {"supports": {"reasoning_effort": True}, "limits": {"max_prompt_tokens": 9}}},
        resume=False,
    )  # fmt: skip
    assert params["modelCapabilities"] == {"supports": {"reasoningEffort": True}, "limits": {"max_prompt_tokens": 9}}


def test_tools_become_definitions():
    class ToolLike:
        name = "get_weather"
        description = "Weather"
        parameters = {"type": "object", "properties": {"city": {"type": "string"}}}
        overrides_built_in_tool = False
        skip_permission = True

    params = build_session_params("sid", {"tools": [ToolLike(), {"name": "raw", "description": "d"}]}, resume=False)
    assert params["tools"] == [
        {"name": "get_weather", "description": "Weather", "parameters": ToolLike.parameters, "skipPermission": True},
        {"name": "raw", "description": "d"},
    ]


def test_disable_resume_only_on_resume():
    assert build_session_params("sid", {"disable_resume": True}, resume=True)["disableResume"] is True


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model": 3}, "model must be a str"),
        ({"streaming": "yes"}, "streaming must be a bool"),
        ({"provider": "openai"}, "provider must be a mapping"),
        ({"available_tools": "view"}, "available_tools must be a list"),
        ({"available_tools": ["view", 3]}, "list of strings"),
        ({"tools": {"name": "x"}}, "tools must be a list"),
        ({"tools": [{"description": "no name"}]}, "non-empty string name"),
        ({"commands": [{}]}, "non-empty string name"),
        ({"on_event": "not callable"}, "on_event must be callable"),
        ({"hooks": {"on_pre_tool": lambda i, c: None}}, "did you mean 'on_pre_tool_use'"),
        ({"hooks": {"on_session_end": 42}}, "must be callable"),
        ({"mcp_servers": {"x": "cmd"}}, r"mcp_servers\['x'\] must be a mapping"),
    ],
)
def test_bad_values_raise_type_error_naming_the_option(options, message):
    with pytest.raises(TypeError, match=message):
        build_session_params("sid", options, resume=False)
