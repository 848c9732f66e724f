"""``CopilotClient(mode="empty")`` on the fake CLI: what it requires, the restrictive
defaults it sends for the options a call leaves unset, and that a caller's value wins."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

from copilot_sync import BUILTIN_TOOLS_ISOLATED, CopilotClient
from copilot_sync.testing import FakeCLI, Scenario

pytestmark = pytest.mark.timeout(60)

TOOLS = [f"builtin:{name}" for name in BUILTIN_TOOLS_ISOLATED]
REMOVE_ENV = {"environment_context": {"action": "remove"}}


@pytest.fixture
def empty():
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, mode="empty", base_directory=tempfile.mkdtemp())  # fmt: skip
        with client:
            yield fake, client


def _create(fake: FakeCLI, client: CopilotClient, **options: Any) -> dict[str, Any]:
    client.create_session(available_tools=TOOLS, **options)
    params: dict[str, Any] = fake.requests("session.create")[-1]["params"]
    return params


def test_empty_mode_needs_explicit_storage_and_a_known_name(tmp_path):
    with pytest.raises(ValueError, match="explicit storage"):
        CopilotClient(mode="empty")
    with pytest.raises(ValueError, match="mode must be one of"):
        CopilotClient(mode="blank")  # type: ignore[arg-type]
    CopilotClient(mode="empty", base_directory=str(tmp_path), auto_start=False)
    CopilotClient(mode="empty", cli_url="127.0.0.1:1", auto_start=False)
    CopilotClient(mode="empty", session_fs={"initial_cwd": "/", "session_state_path": "/s", "conventions": "posix"}, auto_start=False)  # fmt: skip


def test_every_session_must_name_its_tools(empty):
    fake, client = empty
    with pytest.raises(ValueError, match="needs available_tools"):
        client.create_session()
    with pytest.raises(ValueError, match="needs available_tools"):
        client.resume_session("s1")
    assert fake.requests("session.create") == [] and fake.requests("session.resume") == []


def test_restrictive_defaults_reach_the_wire(empty):
    fake, client = empty
    params = _create(fake, client)
    expected = {
        "availableTools": TOOLS,
        "enableSessionTelemetry": False,
        "skipEmbeddingRetrieval": True,
        "embeddingCacheStorage": "in-memory",
        "mcpOAuthTokenStorage": "in-memory",
        "memory": {"enabled": False},
        "enableOnDemandInstructionDiscovery": False,
        "enableFileHooks": False,
        "enableHostGitOperations": False,
        "enableSessionStore": False,
        "enableSkills": False,
        "isExperimentalMode": False,
        "customAgentsLocalOnly": True,
        "skipCustomInstructions": True,
        "coauthorEnabled": False,
        "manageScheduleEnabled": False,
        "includedBuiltinSkills": [],
        "installedPlugins": [],
        "systemMessage": {"mode": "customize", "sections": REMOVE_ENV},
    }
    assert {key: params.get(key) for key in expected} == expected
    session = client.create_session(available_tools=TOOLS)
    session.disconnect()
    client.resume_session(session.session_id, available_tools=TOOLS)
    resumed = fake.requests("session.resume")[-1]["params"]
    assert {key: resumed.get(key) for key in expected} == expected


def test_a_callers_value_wins(empty):
    fake, client = empty
    params = _create(fake, client, enable_skills=True, memory={"enabled": True}, skip_custom_instructions=False)  # fmt: skip
    assert (params["enableSkills"], params["memory"], params["skipCustomInstructions"]) == (True, {"enabled": True}, False)  # fmt: skip
    replace = {"mode": "replace", "content": "You are terse."}
    assert _create(fake, client, system_message=replace)["systemMessage"] == replace
    keep = {"mode": "customize", "sections": {"environment_context": {"action": "append", "content": "x"}}}  # fmt: skip
    assert _create(fake, client, system_message=keep)["systemMessage"] == keep
    appended = _create(fake, client, system_message={"content": "Be brief."})["systemMessage"]
    assert appended == {"mode": "customize", "sections": REMOVE_ENV, "content": "Be brief."}
    tone = {"mode": "customize", "sections": {"tone": {"action": "replace", "content": "dry"}}}
    merged = _create(fake, client, system_message=tone)["systemMessage"]
    assert merged["sections"] == {**tone["sections"], **REMOVE_ENV}


def test_the_default_mode_adds_nothing():
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path) as client:
        client.create_session()
        params = fake.requests("session.create")[0]["params"]
    assert not {"installedPlugins", "systemMessage", "enableSkills", "memory"} & set(params)
