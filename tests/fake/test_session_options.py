"""Every session option the CLI understands, under the official SDK's names: the exact
``session.create``/``session.resume`` params a fake CLI receives (issue 15)."""

from __future__ import annotations

import pytest

from copilot_sync import ResumeOptions, SessionOptions
from copilot_sync._session_wire import WIRE_KEYS

#: The fixed fields every create/resume carries (the SDK's own choices).
FIXED = {
    "requestPermission": False,
    "requestElicitation": False,
    "requestExitPlanMode": False,
    "requestAutoModeSwitch": False,
    "includeSubAgentStreamingEvents": True,
    "envValueMode": "direct",
    "toolFilterPrecedence": "excluded",
}

#: Options shared by create and resume, each beside its wire field and value.
SHARED: list[tuple[str, object, str, object]] = [
    ("client_name", "tests", "clientName", "tests"),
    ("model", "gpt-x", "model", "gpt-x"),
    ("reasoning_effort", "high", "reasoningEffort", "high"),
    ("reasoning_summary", "concise", "reasoningSummary", "concise"),
    ("tools", [{"name": "t", "description": "d"}], "tools", [{"name": "t", "description": "d"}]),
    ("system_message", {"content": "Be kind."}, "systemMessage", {"content": "Be kind."}),
    ("available_tools", ["view", "t"], "availableTools", ["view", "t"]),
    ("excluded_tools", ["bash"], "excludedTools", ["bash"]),
    ("additional_directories", ["/more"], "additionalDirectories", ["/more"]),
    ("provider", {"type": "openai", "base_url": "http://p"}, "provider", {"type": "openai", "baseUrl": "http://p"}),
    ("model_capabilities", {"supports": {"vision": False}}, "modelCapabilities", {"supports": {"vision": False}}),
    ("streaming", True, "streaming", True),
    ("include_sub_agent_streaming_events", False, "includeSubAgentStreamingEvents", False),
    ("mcp_servers", {"srv": {"command": "x", "tools": ["*"]}}, "mcpServers", {"srv": {"command": "x", "tools": ["*"]}}),
    ("custom_agents", [{"name": "a", "prompt": "p"}], "customAgents", [{"name": "a", "prompt": "p"}]),
    ("agent", "a", "agent", "a"),
    ("enable_config_discovery", True, "enableConfigDiscovery", True),
    ("disabled_skills", ["s1"], "disabledSkills", ["s1"]),
    ("providers", [{"name": "byok", "type": "openai", "base_url": "http://b", "api_key": "k"}],
     "providers", [{"name": "byok", "type": "openai", "baseUrl": "http://b", "apiKey": "k"}]),
    ("models", [{"id": "m1", "provider": "byok", "max_output_tokens": 10}],
     "models", [{"id": "m1", "provider": "byok", "maxOutputTokens": 10}]),
    ("session_limits", {"max_ai_credits": 40}, "sessionLimits", {"maxAiCredits": 40}),
    ("large_output", {"enabled": True, "max_size_bytes": 2048, "output_directory": "/tmp/out"},
     "largeOutput", {"enabled": True, "maxSizeBytes": 2048, "outputDir": "/tmp/out"}),
    ("sandbox_config", {"enabled": False, "add_current_working_directory": True},
     "sandboxConfig", {"enabled": False, "addCurrentWorkingDirectory": True}),
    ("skip_custom_instructions", True, "skipCustomInstructions", True),
    ("disabled_mcp_servers", ["github"], "disabledMcpServers", ["github"]),
    ("enable_file_change_tracking", True, "enableFileChangeTracking", True),
    ("default_agent", {"excluded_tools": ["view"]}, "defaultAgent", {"excludedTools": ["view"]}),
    ("agent_directories", ["/a"], "agentDirectories", ["/a"]),
    ("skill_directories", ["/s"], "skillDirectories", ["/s"]),
    ("instruction_directories", ["/i"], "instructionDirectories", ["/i"]),
    ("plugin_directories", ["/p"], "pluginDirectories", ["/p"]),
    ("hook_directories", ["/h"], "hookDirectories", ["/h"]),
    ("memory", {"enabled": True}, "memory", {"enabled": True}),
    ("infinite_sessions", {"enabled": True, "buffer_exhaustion_threshold": 0.9},
     "infiniteSessions", {"enabled": True, "bufferExhaustionThreshold": 0.9}),
    ("autopilot", {"max_continues": 3}, "autopilot", {"maxContinues": 3}),
    ("excluded_builtin_agents", ["explore", "task"], "excludedBuiltinAgents", ["explore", "task"]),
    ("feature_flags", {"SOME_FLAG": False}, "featureFlags", {"SOME_FLAG": False}),
    ("enable_experimental_mode", False, "isExperimentalMode", False),
    ("context_tier", "default", "contextTier", "default"),
    ("tool_search", {"enabled": False}, "toolSearch", {"enabled": False}),
    ("image_generation", {"enabled": True, "watermark": True}, "imageGeneration", {"enabled": True, "watermark": True}),
    ("ask_user_variant", "elicitation", "askUserVariant", "elicitation"),
    ("capi", {"auto_tier": "fast"}, "capi", {"autoTier": "fast"}),
    ("enable_session_telemetry", False, "enableSessionTelemetry", False),
    ("enable_citations", True, "enableCitations", True),
    ("custom_agents_local_only", True, "customAgentsLocalOnly", True),
    ("coauthor_enabled", False, "coauthorEnabled", False),
    ("manage_schedule_enabled", True, "manageScheduleEnabled", True),
    ("diagnostics", {"sources": {"mcp": {"level": "warning"}}},
     "diagnostics", {"sources": {"mcp": {"level": "warning"}}}),
    ("mcp_oauth_token_storage", "in-memory", "mcpOAuthTokenStorage", "in-memory"),
    ("auth_client_id_metadata_url", "https://x/cimd", "authClientIdMetadataUrl", "https://x/cimd"),
    ("embedding_cache_storage", "persistent", "embeddingCacheStorage", "persistent"),
    ("config_directory", "/cfg", "configDir", "/cfg"),
    ("working_directory", "/w", "workingDirectory", "/w"),
    ("skip_embedding_retrieval", True, "skipEmbeddingRetrieval", True),
    ("organization_custom_instructions", "Be brief.", "organizationCustomInstructions", "Be brief."),
    ("enable_on_demand_instruction_discovery", False, "enableOnDemandInstructionDiscovery", False),
    ("enable_file_hooks", False, "enableFileHooks", False),
    ("enable_host_git_operations", False, "enableHostGitOperations", False),
    ("enable_session_store", False, "enableSessionStore", False),
    ("enable_skills", True, "enableSkills", True),
    ("included_builtin_skills", [], "includedBuiltinSkills", []),
    ("enable_mcp_apps", True, "requestMcpApps", True),
    ("github_mcp_tool_config", {"enable_insiders_mode": True}, "githubMcpToolConfig", {"enableInsidersMode": True}),
    ("exp_assignments", {"features": ["x"], "impression_id": "i"},
     "expAssignments", {"Features": ["x"], "ImpressionId": "i"}),
    ("enable_managed_settings", False, "enableManagedSettings", False),
    ("excluded_managed_settings", ["sandbox"], "excludedManagedSettings", ["sandbox"]),
    ("enforce_managed_model_defaults", True, "enforceManagedModelDefaults", True),
    ("interactive_user", True, "interactiveUser", True),
    ("managed_settings", {"permissions": {"disable_bypass_permissions_mode": "disable"}},
     "managedSettings", {"permissions": {"disableBypassPermissionsMode": "disable"}}),
    ("canvases", [{"id": "b", "display_name": "B", "description": "d"}],
     "canvases", [{"id": "b", "displayName": "B", "description": "d"}]),
    ("request_canvas_renderer", True, "requestCanvasRenderer", True),
    ("canvas_provider", {"id": "app:1"}, "canvasProvider", {"id": "app:1"}),
    ("request_extensions", True, "requestExtensions", True),
    ("extension_sdk_path", "/opt/copilot-sdk", "extensionSdkPath", "/opt/copilot-sdk"),
    ("extension_info", {"source": "s", "name": "n"}, "extensionInfo", {"source": "s", "name": "n"}),
]  # fmt: skip

CREATE_ONLY = [
    ("name", "Nightly build", "name", "Nightly build"),
    ("refresh_custom_instructions", True, "refreshCustomInstructions", True),
    ("trust_working_directory", "session", "trustWorkingDirectory", "session"),
]
RESUME_ONLY = [
    ("continue_pending_work", True, "continuePendingWork", True),
    ("suppress_resume_event", True, "disableResume", True),
    ("allow_transcript_recovery", False, "allowTranscriptRecovery", False),
    ("open_canvases", [{"instance_id": "i", "extension_id": "e", "canvas_id": "c"}],
     "openCanvases", [{"instanceId": "i", "extensionId": "e", "canvasId": "c"}]),
]  # fmt: skip
#: Covered by tests/fake/test_cloud.py (without a session_id the CLI chooses the id).
CLOUD = [("cloud", {"repository": {"owner": "o", "name": "r"}}, "cloud", {"repository": {"owner": "o", "name": "r"}})]  # fmt: skip


#: Not with ``provider`` (in SHARED): the CLI refuses the pair (tests/fake/test_more_handlers.py).
IDENTITY = [("github_token", "gho_" + "x" * 36, "gitHubToken", "gho_" + "x" * 36)]


def test_github_token_is_sent_under_its_wire_name(fake, sdk):
    ((option, value, wire, wire_value),) = IDENTITY
    session = sdk.create_session(**{option: value})
    assert fake.wait_for_request("session.create")["params"][wire] == wire_value
    session.disconnect()


def test_create_session_sends_every_option_under_its_wire_name(fake, sdk):
    options: SessionOptions = {}
    expected: dict[str, object] = {}
    for option, value, wire, wire_value in SHARED + CREATE_ONLY:
        options[option] = value  # type: ignore[literal-required]
        expected[wire] = wire_value
    session = sdk.create_session(**options)
    params = fake.wait_for_request("session.create")["params"]
    assert params == {"sessionId": session.session_id, **FIXED, **expected}
    session.disconnect()


def test_resume_session_sends_every_option_under_its_wire_name(fake, sdk):
    session_id = sdk.create_session().session_id
    sdk.sessions[0].disconnect()
    options: ResumeOptions = {}
    expected: dict[str, object] = {}
    for option, value, wire, wire_value in SHARED + RESUME_ONLY:
        options[option] = value  # type: ignore[literal-required]
        expected[wire] = wire_value
    resumed = sdk.resume_session(session_id, **options)
    params = fake.wait_for_request("session.resume")["params"]
    assert params == {"sessionId": session_id, **FIXED, **expected}
    resumed.disconnect()


def test_the_tables_cover_every_option_sent_on_the_wire():
    covered = {option for option, *_ in SHARED + CREATE_ONLY + RESUME_ONLY + IDENTITY + CLOUD}
    older_names = {"config_dir", "disable_resume"}  # the same fields; tests/test_session_config.py
    assert covered == set(WIRE_KEYS) - {"session_id"} - older_names


@pytest.mark.parametrize("option", [o for o, *_ in CREATE_ONLY])
def test_create_only_options_are_refused_on_resume(fake, sdk, option):
    session_id = sdk.create_session().session_id
    with pytest.raises(
        TypeError, match=f"resume_session\\(\\) got an unexpected keyword argument '{option}'"
    ):
        sdk.resume_session(session_id, **{option: {o: v for o, v, *_ in CREATE_ONLY}[option]})
    assert fake.requests("session.resume") == []


def test_a_misspelt_option_is_refused_before_anything_is_sent(fake, sdk):
    with pytest.raises(
        TypeError, match="'disabled_mcp_server'; did you mean 'disabled_mcp_servers'"
    ):
        sdk.create_session(disabled_mcp_server=["x"])
    assert fake.requests("session.create") == []
