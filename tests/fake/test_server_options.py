"""Client options that shape the CLI server (``client_info``, ``session_idle_timeout_seconds``,
``base_directory``, ``telemetry``, ``builtin_plugin_directories``), the client's
``installation_confirmation_handler`` and the session's ``skill_provider``, on the wire of
the fake CLI: what reaches argv, the environment, ``connect`` and the requests, and how a
handler that raises or returns junk is answered."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from copilot_sync import CopilotClient
from copilot_sync._requests.installations import InstallationConfirmationRequest
from copilot_sync._requests.skill_provider import SkillDescriptor
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import reply

from .conftest import running

pytestmark = pytest.mark.timeout(60)

PLUGINS_OK = Rule(method="plugins.builtin.set", actions=[reply({})])


def test_server_options_reach_argv_environment_connect_and_plugins(tmp_path):
    home = str(tmp_path / "copilot-home")
    options: dict[str, Any] = {
        "client_info": {"application_name": "review-bot", "application_version": "2.4.0",
                        "integration_name": "", "integration_version": "0.1.0"},
        "session_idle_timeout_seconds": 900,
        "base_directory": home,
        "telemetry": {"file_path": str(tmp_path / "spans.jsonl"), "exporter_type": "file",
                      "capture_content": False},
        "builtin_plugin_directories": [str(tmp_path / "plugins")],
    }  # fmt: skip
    with running([PLUGINS_OK]) as (fake, _client):
        pass  # the plain client: none of it
    assert "--session-idle-timeout" not in fake.instances[0].argv
    assert "clientInfo" not in fake.requests("connect")[0]["params"]
    assert fake.requests("plugins.builtin.set") == []

    with FakeCLI(Scenario(rules=[PLUGINS_OK])) as fake:
        with CopilotClient(cli_path=fake.cli_path, **options):
            (instance,) = fake.instances
            argv = instance.argv
            assert argv[argv.index("--session-idle-timeout") + 1] == "900"
            assert instance.env["COPILOT_HOME"] == home
            assert instance.env["COPILOT_OTEL_ENABLED"] == "true"
            assert instance.env["COPILOT_OTEL_EXPORTER_TYPE"] == "file"
            assert instance.env["COPILOT_OTEL_FILE_EXPORTER_PATH"].endswith("spans.jsonl")
            assert instance.env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "false"
            (connect,) = fake.requests("connect")
            assert connect["params"]["clientInfo"] == {
                "editorName": "review-bot",
                "editorVersion": "2.4.0",
                "extensionVersion": "0.1.0",
            }
            (plugins,) = fake.requests("plugins.builtin.set")
            assert plugins["params"] == {"paths": [str(tmp_path / "plugins")]}
            methods = [m.get("method") for m in fake.received if "method" in m]
            assert methods.index("plugins.builtin.set") > methods.index("connect")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"client_info": {"app_name": "x"}}, TypeError, "did you mean 'application_name'"),
        ({"client_info": {"application_name": 3}}, TypeError, "must be a str"),
        ({"telemetry": {"exporter_type": "zipkin"}}, ValueError, "must be one of otlp-http, file"),
        ({"telemetry": {"endpoint": "http://x"}}, TypeError, "did you mean 'otlp_endpoint'"),
        ({"telemetry": {"capture_content": "yes"}}, TypeError, "must be a bool"),
        ({"session_idle_timeout_seconds": -1}, ValueError, "whole number of seconds"),
        ({"session_idle_timeout_seconds": 1.5}, ValueError, "whole number of seconds"),
        ({"builtin_plugin_directories": ["relative/dir"]}, ValueError, "absolute paths"),
        ({"builtin_plugin_directories": "/one/string"}, TypeError, "not one string"),
        ({"installation_confirmation_handler": lambda: "confirm"}, TypeError, "installation_confirmation_handler"),
        ({"cli_url": "127.0.0.1:1", "base_directory": "/tmp/x"}, ValueError, "with cli_url"),
    ],
)  # fmt: skip
def test_bad_server_options_are_refused_when_the_client_is_built(options, error, message):
    with pytest.raises(error, match=message):
        CopilotClient(auto_start=False, **options)


def test_a_failed_plugins_call_fails_start_and_leaves_nothing_running(tmp_path):
    from copilot_sync import JsonRpcError

    with FakeCLI(Scenario()) as fake:  # the fake does not know plugins.builtin.set
        client = CopilotClient(
            cli_path=fake.cli_path, auto_start=False, builtin_plugin_directories=[str(tmp_path)]
        )
        with pytest.raises(JsonRpcError, match=r"plugins\.builtin\.set"):
            client.start()
        assert client.state.value == "error"
        fake.wait_for_exit(timeout=10)


# ------------------------------------------------------------------ installations.confirm


@contextlib.contextmanager
def confirming(handler: Any) -> Iterator[tuple[FakeCLI, CopilotClient]]:
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, installation_confirmation_handler=handler) as client,
    ):
        yield fake, client


def _confirm_params(**extra: Any) -> dict[str, Any]:
    return {
        "confirmationId": "challenge-1",
        "operationId": "op-7",
        "expiresAt": "2026-12-06T10:00:00Z",
        "reviewFingerprint": "fingerprint-1",
        "review": {"resource": "mcp", "review": {"action": "add", "name": "weather"}},
        "policySessionId": "s-1",
        **extra,
    }


def test_installation_confirmation_runs_on_a_worker_and_echoes_the_challenge():
    seen: list[tuple[InstallationConfirmationRequest, str]] = []

    def decide(request: InstallationConfirmationRequest) -> str:
        seen.append((request, threading.current_thread().name))
        return "decline"

    with confirming(decide) as (fake, _client):
        answer = fake.request("installations.confirm", _confirm_params())
    assert answer["result"] == {
        "confirmationId": "challenge-1",
        "reviewFingerprint": "fingerprint-1",
        "decision": "decline",
    }
    ((request, thread),) = seen
    assert thread.startswith("copilot-worker")
    assert request.resource == "mcp" and request.operation_id == "op-7"
    assert request.policy_session_id == "s-1"
    assert "challenge-1" not in repr(request) and "fingerprint-1" not in repr(request)


@pytest.mark.parametrize(
    ("handler", "code", "message"),
    [
        (None, -32603, "no installation_confirmation_handler"),
        (lambda request: "yes", -32603, "invalid installation confirmation decision"),
        (lambda request: 1 / 0, -32603, "handler failed"),
    ],
)
def test_installation_confirmation_failures_install_nothing(handler, code, message, caplog):
    with confirming(handler) as (fake, _client):
        answer = fake.request("installations.confirm", _confirm_params())
        assert answer["error"]["code"] == code and message in answer["error"]["message"]
        bad = fake.request("installations.confirm", {"operationId": "op"})
        assert bad["error"]["code"] == -32602
        # the connection goes on
        assert fake.request("installations.confirm", _confirm_params())["error"]["code"] == code
    assert "challenge-1" not in caplog.text and "fingerprint-1" not in caplog.text


# ------------------------------------------------------------------ skill_provider


class Shelf:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def list_skills(self) -> list[SkillDescriptor | dict[str, Any]]:
        self.threads.append(threading.current_thread().name)
        return [
            SkillDescriptor("release-notes", "Write release notes", argument_hint="<tag>"),
            {"name": "triage", "description": "Label an issue", "user_invocable": False},
        ]

    def read_skill(self, name: str) -> str | None:
        self.threads.append(threading.current_thread().name)
        return "# Release notes\nList the changes." if name == "release-notes" else None


def test_skill_provider_sets_the_flag_and_answers_list_and_read():
    shelf = Shelf()
    with running() as (fake, client):
        session = client.create_session(skill_provider=shelf)
        (create,) = fake.requests("session.create")
        assert create["params"]["hasSkillProvider"] is True
        sid = {"sessionId": session.session_id}
        listed = fake.request("skillProvider.list", sid)["result"]
        assert listed == {
            "skills": [
                {"name": "release-notes", "description": "Write release notes", "argumentHint": "<tag>"},
                {"name": "triage", "description": "Label an issue", "userInvocable": False},
            ]
        }  # fmt: skip
        read = fake.request("skillProvider.read", {**sid, "name": "release-notes"})
        assert read["result"] == {"markdown": "# Release notes\nList the changes."}
        missing = fake.request("skillProvider.read", {**sid, "name": "nope"})
        assert missing["result"] == {"markdown": None}
        plain = client.create_session()
        assert "hasSkillProvider" not in fake.requests("session.create")[1]["params"]
        refused = fake.request("skillProvider.list", {"sessionId": plain.session_id})
        assert refused["error"]["code"] == -32603
    assert all(name.startswith("copilot-worker") for name in shelf.threads)


class BrokenShelf:
    def __init__(self, skills: Any) -> None:
        self.skills = skills

    def list_skills(self) -> Any:
        if isinstance(self.skills, Exception):
            raise self.skills
        return self.skills

    def read_skill(self, name: str) -> Any:
        return 42


@pytest.mark.parametrize(
    "skills",
    [
        RuntimeError("disk /secret/path gone"),
        [{"name": "bad name!", "description": "x"}],
        [{"name": "a", "description": "x"}, {"name": "A", "description": "y"}],
        [{"name": "a"}],
        [{"name": "a", "description": "x", "colour": "red"}],
        "not a list",
    ],
)
def test_a_broken_skill_provider_gets_a_generic_error(skills, caplog):
    with running() as (fake, client):
        session = client.create_session(skill_provider=BrokenShelf(skills))
        sid = {"sessionId": session.session_id}
        answer = fake.request("skillProvider.list", sid)
        assert answer["error"] == {"code": -32603, "message": "skill provider list_skills() failed"}
        read = fake.request("skillProvider.read", {**sid, "name": "a"})
        assert read["error"]["message"] == "skill provider read_skill() failed"
    assert "list_skills" in caplog.text


def test_a_skill_provider_without_the_methods_is_refused():
    with running() as (_fake, client), pytest.raises(TypeError, match=r"callable list_skills"):
        client.create_session(skill_provider=object())
