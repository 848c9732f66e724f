"""Session options: snake_case keywords to the wire, and clear errors for bad ones; the
declared options (``SessionOptions``/``ResumeOptions``) match what is accepted."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import pytest

import copilot_sync
from copilot_sync import ResumeOptions, SessionOptions
from copilot_sync._session_config import (
    _CHOICES,
    _TYPES,
    CREATE_OPTIONS,
    LOCAL_OPTIONS,
    RESUME_OPTIONS,
    build_session_params,
    check_options,
)
from copilot_sync._session_wire import SHAPES, WIRE_KEYS

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
    with pytest.raises(
        TypeError, match=r"unexpected keyword argument 'modle'.*did you mean 'model'"
    ):
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
            "provider": {
                "type": "openai",
                "base_url": "http://x",
                "api_key": "k",
                "wire_api": "completions",
                "headers": {"x_custom_header": "1"},
            },
            "on_permission_request": lambda r, i: "approve-once",
            "on_user_input_request": lambda r, i: {"answer": "a", "wasFreeform": True},
            "on_elicitation_request": lambda c: {"action": "cancel"},
            "hooks": {"on_pre_tool_use": lambda i, c: None},
            "commands": [
                {"name": "deploy", "description": "Deploy it", "handler": print},
                {"name": "noop", "handler": print},
            ],
        },
        resume=False,
    )
    assert (
        params["clientName"] == "tests"
        and params["model"] == "gpt-x"
        and params["reasoningEffort"] == "high"
    )
    assert (
        params["workingDirectory"] == "/w"
        and params["streaming"] is True
        and params["configDir"] == "/c"
    )
    assert params["skillDirectories"] == ["/s"] and params["disabledSkills"] == ["bad"]
    assert params["availableTools"] == ["view"] and params["excludedTools"] == ["shell"]
    assert params["agent"] == "reviewer"
    assert params["infiniteSessions"] == {"enabled": True, "backgroundCompactionThreshold": 0.7}
    assert params["systemMessage"] == {
        "mode": "customize",
        "sections": {"tone": {"action": "remove"}},
    }
    assert params["provider"] == {
        "type": "openai", "baseUrl": "http://x", "apiKey": "k", "wireApi": "completions",
        "headers": {"x_custom_header": "1"},
    }  # fmt: skip
    assert params["requestPermission"] is True and params["requestUserInput"] is True
    assert params["requestElicitation"] is True and params["hooks"] is True
    assert params["commands"] == [
        {"name": "deploy", "description": "Deploy it"},
        {"name": "noop", "description": ""},
    ]


def test_mcp_servers_and_custom_agents():
    params = build_session_params(
        "sid",
        {
            "mcp_servers": {
                "files": {
                    "command": "srv",
                    "args": ["--x_y"],
                    "working_directory": "/d",
                    "env": {"API_KEY": "1"},
                }
            },
            "custom_agents": [
                {
                    "name": "a",
                    "prompt": "p",
                    "display_name": "A",
                    "mcp_servers": {"m": {"type": "http", "url": "http://m"}},
                }
            ],
        },
        resume=False,
    )
    assert params["mcpServers"] == {
        "files": {"command": "srv", "args": ["--x_y"], "cwd": "/d", "env": {"API_KEY": "1"}}
    }
    assert params["customAgents"] == [
        {
            "name": "a",
            "prompt": "p",
            "displayName": "A",
            "mcpServers": {"m": {"type": "http", "url": "http://m"}},
        }
    ]


def test_model_capabilities_limits_stay_snake_case():
    params = build_session_params(
        "sid", {"model_capabilities": {"supports": {"reasoning_effort": True}, "limits": {"max_prompt_tokens": 9}}},
        resume=False,
    )  # fmt: skip
    assert params["modelCapabilities"] == {
        "supports": {"reasoningEffort": True},
        "limits": {"max_prompt_tokens": 9},
    }


def test_tools_become_definitions():
    class ToolLike:
        name = "get_weather"
        description = "Weather"
        parameters: typing.ClassVar[dict[str, typing.Any]] = {
            "type": "object",
            "properties": {"city": {"type": "string"}},
        }
        overrides_built_in_tool = False
        skip_permission = True

    params = build_session_params(
        "sid", {"tools": [ToolLike(), {"name": "raw", "description": "d"}]}, resume=False
    )
    assert params["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather",
            "parameters": ToolLike.parameters,
            "skipPermission": True,
        },
        {"name": "raw", "description": "d"},
    ]


def test_disable_resume_only_on_resume():
    assert (
        build_session_params("sid", {"disable_resume": True}, resume=True)["disableResume"] is True
    )


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


# ---------------------------------------------------------------- the declared options (issue 15)

OPTIONS_MODULE = Path(copilot_sync.__file__).with_name("_session_options.py")


def test_the_accepted_options_are_the_declared_ones():
    assert set(SessionOptions.__annotations__) == CREATE_OPTIONS
    assert set(ResumeOptions.__annotations__) | {"session_id"} == RESUME_OPTIONS
    assert {
        "name",
        "refresh_custom_instructions",
        "trust_working_directory",
    } <= CREATE_OPTIONS - RESUME_OPTIONS
    resume_only = {"continue_pending_work", "suppress_resume_event", "allow_transcript_recovery"}
    assert resume_only <= RESUME_OPTIONS - CREATE_OPTIONS
    # every option either goes on the wire or stays here as a handler
    assert set(WIRE_KEYS) | LOCAL_OPTIONS == CREATE_OPTIONS | RESUME_OPTIONS
    assert not set(WIRE_KEYS) & LOCAL_OPTIONS


def test_every_declared_option_has_a_docstring():
    tree = ast.parse(OPTIONS_MODULE.read_text(encoding="utf-8"))
    documented: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in (
            "_CommonOptions",
            "SessionOptions",
            "ResumeOptions",
        ):
            for field, after in zip(node.body, node.body[1:], strict=False):
                docstring = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                if isinstance(field, ast.AnnAssign) and docstring:
                    documented.add(field.target.id)
    assert set(SessionOptions.__annotations__) | set(ResumeOptions.__annotations__) == documented


def test_the_declarations_resolve_at_run_time():
    # so that run-time readers of type hints (pydantic's TypeAdapter...) can use them too
    assert typing.get_type_hints(SessionOptions).keys() == SessionOptions.__annotations__.keys()
    assert typing.get_type_hints(ResumeOptions).keys() == ResumeOptions.__annotations__.keys()


def _annotation(options: type, key: str) -> str:
    hint = options.__annotations__[key]
    return getattr(hint, "__forward_arg__", hint if isinstance(hint, str) else repr(hint))


def test_the_runtime_checks_match_the_declared_types():
    for options in (SessionOptions, ResumeOptions):
        for key in options.__annotations__:
            annotation = _annotation(options, key)
            if annotation == "bool":
                assert _TYPES[key] == (bool,), key
            elif annotation == "str" or annotation.startswith("Literal["):
                assert _TYPES[key] == (str,), key
            elif annotation == "Sequence[str]":
                assert key in SHAPES, key  # converted by string_list
                with pytest.raises(TypeError, match="list of strings"):
                    SHAPES[key]("not-a-list")
            if annotation.startswith("Literal["):
                declared = tuple(ast.literal_eval(f"[{annotation[8:-1]}]"))
                assert _CHOICES.get(key, declared) == declared, key


@pytest.mark.parametrize(
    "where, options, message",
    [
        (
            "create_session",
            {"skip_custom_instruction": True},
            "did you mean 'skip_custom_instructions'",
        ),
        (
            "create_session",
            {"excluded_builtin_agent": ["explore"]},
            "did you mean 'excluded_builtin_agents'",
        ),
        ("create_session", {"sandbox": {}}, "did you mean 'sandbox_config'"),
        ("resume_session", {"continue_pending": True}, "did you mean 'continue_pending_work'"),
        ("resume_session", {"name": "x"}, "unexpected keyword argument 'name'"),
        (
            "create_session",
            {"suppress_resume_event": True},
            "unexpected keyword argument 'suppress_resume_event'",
        ),
        ("create_session", {"zzzz": 1}, r"unexpected keyword argument 'zzzz'$"),
    ],
)
def test_unknown_options_are_refused_with_a_suggestion(where, options, message):
    allowed = CREATE_OPTIONS if where == "create_session" else RESUME_OPTIONS
    with pytest.raises(TypeError, match=message):
        check_options(options, allowed, where)


def test_new_options_map_to_the_official_wire_shapes():
    params = build_session_params(
        "sid",
        {
            "name": "my session",
            "enable_experimental_mode": True,
            "context_tier": "long_context",
            "ask_user_variant": "legacy",
            "tool_search": {"enabled": True, "defer_threshold": 40},
            "image_generation": {"enabled": True, "save_to_disk": False},
            "capi": {"auto_tier": "balance", "enable_web_socket_responses": False},
            "providers": [
                {
                    "name": "local",
                    "type": "openai",
                    "base_url": "http://l",
                    "headers": {"x_h": "1"},
                    "azure": {"api_version": "v1"},
                }
            ],
            "models": [
                {
                    "id": "m",
                    "provider": "local",
                    "wire_model": "w",
                    "max_context_window_tokens": 9,
                    "capabilities": {
                        "supports": {"reasoning_effort": True},
                        "limits": {"max_prompt_tokens": 5},
                    },
                    "metadata": {"x_y": 1},
                    "system_message": {
                        "mode": "customize",
                        "sections": {"code_change_rules": {"action": "remove"}},
                    },
                }
            ],
            "session_limits": {"max_ai_credits": 50},
            "autopilot": {"continuation_enabled": False, "max_continues": 2},
            "large_output": {"enabled": True, "max_size_bytes": 1000, "output_directory": "/out"},
            "memory": {"enabled": False, "mode": "user-prompt"},
            "default_agent": {"excluded_tools": ["view"]},
            "sandbox_config": {
                "enabled": True,
                "user_policy": {"filesystem": {"readonly_paths": ["/r"]}},
                "credentials": {"env_vars": {"MY_TOKEN": {"inject_hosts": ["api.x"]}}},
            },
            "diagnostics": {"sources": {"mcp": {"level": "debug"}}},
            "feature_flags": {"SOME_FLAG": True},
            "exp_assignments": {
                "features": ["f"],
                "flights": {"a_b": "c"},
                "assignment_context": "ctx",
                "configs": [{"id": "c1", "parameters": {"p_q": 1}}],
            },
            "managed_settings": {
                "permissions": {"deny": ["Shell(rm *)"], "limit_to": ["Domain(x.com)"]}
            },
            "github_mcp_tool_config": {"enable_all_tools": True, "additional_toolsets": ["repos"]},
            "config_directory": "/cfg",
            "trust_working_directory": "session",
            "enable_mcp_apps": True,
            "excluded_builtin_agents": ["explore"],
            "disabled_mcp_servers": ["srv"],
        },
        resume=False,
    )
    assert params["name"] == "my session" and params["isExperimentalMode"] is True
    assert params["contextTier"] == "long_context" and params["askUserVariant"] == "legacy"
    assert params["toolSearch"] == {"enabled": True, "deferThreshold": 40}
    assert params["imageGeneration"] == {"enabled": True, "saveToDisk": False}
    assert params["capi"] == {"autoTier": "balance", "enableWebSocketResponses": False}
    assert params["providers"] == [
        {"name": "local", "type": "openai", "baseUrl": "http://l", "headers": {"x_h": "1"},
         "azure": {"apiVersion": "v1"}}
    ]  # fmt: skip
    assert params["models"] == [
        {"id": "m", "provider": "local", "wireModel": "w", "maxContextWindowTokens": 9,
         "capabilities": {"supports": {"reasoningEffort": True}, "limits": {"max_prompt_tokens": 5}},
         "metadata": {"x_y": 1}, "systemMessage": {"mode": "customize", "sections": {"code_change_rules": {"action": "remove"}}}}
    ]  # fmt: skip
    assert params["sessionLimits"] == {"maxAiCredits": 50}
    assert params["autopilot"] == {"continuationEnabled": False, "maxContinues": 2}
    assert params["largeOutput"] == {"enabled": True, "maxSizeBytes": 1000, "outputDir": "/out"}
    assert params["memory"] == {"enabled": False, "mode": "user-prompt"}
    assert params["defaultAgent"] == {"excludedTools": ["view"]}
    assert params["sandboxConfig"] == {
        "enabled": True, "userPolicy": {"filesystem": {"readonlyPaths": ["/r"]}},
        "credentials": {"envVars": {"MY_TOKEN": {"injectHosts": ["api.x"]}}},
    }  # fmt: skip
    assert params["diagnostics"] == {"sources": {"mcp": {"level": "debug"}}}
    assert params["featureFlags"] == {"SOME_FLAG": True}
    assert params["expAssignments"] == {
        "Features": ["f"], "Flights": {"a_b": "c"}, "AssignmentContext": "ctx",
        "Configs": [{"Id": "c1", "Parameters": {"p_q": 1}}],
    }  # fmt: skip
    assert params["managedSettings"] == {
        "permissions": {"deny": ["Shell(rm *)"], "limitTo": ["Domain(x.com)"]}
    }
    assert params["githubMcpToolConfig"] == {
        "enableAllTools": True,
        "additionalToolsets": ["repos"],
    }
    assert params["configDir"] == "/cfg" and params["trustWorkingDirectory"] == "session"
    assert params["requestMcpApps"] is True
    assert params["excludedBuiltinAgents"] == ["explore"] and params["disabledMcpServers"] == [
        "srv"
    ]


def test_nested_keys_may_be_camel_case_or_the_wire_spelling():
    params = build_session_params(
        "sid",
        {"large_output": {"maxSizeBytes": 5, "outputDir": "/o"}, "session_limits": {"maxAiCredits": 40},
         "provider": {"type": "openai", "baseUrl": "http://x", "provider_name": "p", "max_context_window_tokens": 7,
                      "model_capabilities": {"limits": {"max_output_tokens": 3}}}},
        resume=False,
    )  # fmt: skip
    assert params["largeOutput"] == {"maxSizeBytes": 5, "outputDir": "/o"}
    assert params["sessionLimits"] == {"maxAiCredits": 40}
    assert params["provider"] == {
        "type": "openai", "baseUrl": "http://x", "providerName": "p", "maxContextWindowTokens": 7,
        "modelCapabilities": {"limits": {"max_output_tokens": 3}},
    }  # fmt: skip


def test_a_generated_record_is_sent_in_its_wire_form():
    from copilot_sync.generated.rpc import SandboxConfig

    record = SandboxConfig(enabled=True, allow_bypass=False)
    params = build_session_params("sid", {"sandbox_config": record}, resume=False)
    assert params["sandboxConfig"] == {"enabled": True, "allowBypass": False}


def test_resume_only_options_and_the_older_names():
    params = build_session_params(
        "sid",
        {"continue_pending_work": True, "suppress_resume_event": True, "allow_transcript_recovery": False,
         "config_dir": "/c"},
        resume=True,
    )  # fmt: skip
    assert params["continuePendingWork"] is True and params["disableResume"] is True
    assert params["allowTranscriptRecovery"] is False and params["configDir"] == "/c"
    both = {
        "config_directory": "/a",
        "config_dir": "/a",
        "suppress_resume_event": True,
        "disable_resume": True,
    }
    assert build_session_params("sid", both, resume=True)["configDir"] == "/a"


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"config_directory": "/a", "config_dir": "/b"}, ValueError, "two names of one option"),
        (
            {"suppress_resume_event": True, "disable_resume": False},
            ValueError,
            "two names of one option",
        ),
        ({"trust_working_directory": "always"}, ValueError, "must be one of 'session', 'user'"),
        ({"ask_user_variant": "form"}, ValueError, "must be one of 'legacy', 'elicitation'"),
        ({"mcp_oauth_token_storage": "disk"}, ValueError, "'persistent', 'in-memory'"),
        ({"skip_custom_instructions": "yes"}, TypeError, "skip_custom_instructions must be a bool"),
        ({"name": 3}, TypeError, "name must be a str"),
        ({"session_limits": 50}, TypeError, "session_limits must be a mapping"),
        (
            {"excluded_builtin_agents": "explore"},
            TypeError,
            "excluded_builtin_agents must be a list of strings",
        ),
        ({"providers": {"name": "x"}}, TypeError, "providers must be a list"),
        ({"models": [3]}, TypeError, "models items must be mappings"),
        ({"memory": {"mode": "user-prompt"}}, TypeError, "memory needs 'enabled'"),
        ({"feature_flags": {"F": "on"}}, TypeError, "feature_flags maps flag names to True/False"),
        (
            {"provider": {"type": "openai", "bearer_token_provider": lambda a: "t"}},
            TypeError,
            "bearer_token_provider",
        ),
        (
            {"providers": [{"name": "n", "bearer_token_provider": lambda a: "t"}]},
            TypeError,
            "bearer_token_provider",
        ),
        (
            {"large_output": {"output_dir": "/x"}},
            TypeError,
            "large_output has no key 'output_dir'; did you mean 'output_directory'",
        ),
        (
            {"session_limits": {"max_credits": 50}},
            TypeError,
            "no key 'max_credits'; did you mean 'max_ai_credits'",
        ),
        (
            {"provider": {"type": "openai", "baseurl": "x"}},
            TypeError,
            "provider has no key 'baseurl'; did you mean 'base_url'",
        ),
        (
            {"models": [{"id": "m", "zzz": 1}]},
            TypeError,
            "models has no key 'zzz'; it takes capabilities, id",
        ),
        (
            {"memory": {"enabled": True, "modes": "x"}},
            TypeError,
            "memory has no key 'modes'; did you mean 'mode'",
        ),
    ],
)
def test_bad_new_option_values(options, error, message):
    with pytest.raises(error, match=message):
        build_session_params("sid", options, resume=True)


def test_the_client_methods_take_the_declared_options():
    # The signatures stay **options (the runtime check above refuses unknown ones); the
    # TypedDicts are what a type checker reads.
    for method in (
        copilot_sync.CopilotClient.create_session,
        copilot_sync.CopilotClient.resume_session,
    ):
        kinds = [p.kind for p in inspect.signature(method).parameters.values()]
        assert inspect.Parameter.VAR_KEYWORD in kinds
