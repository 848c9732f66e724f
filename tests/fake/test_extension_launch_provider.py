"""The client's ``extension_launch_provider`` on the wire of the fake CLI: the
``registerExtensionLaunchProvider`` call at start, the answers to
``extensionLaunchProvider.resolve`` (a profile, ``{}`` for None, errors for a provider that
raises or returns junk), the worker thread it runs on, and an older CLI without the method."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from copilot_sync import CopilotClient, JsonRpcError
from copilot_sync._requests.extension_launch import (
    ExtensionLaunchProfile,
    ExtensionLaunchRequest,
    profile_to_wire,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import error, reply, request

pytestmark = pytest.mark.timeout(60)

REGISTER = "registerExtensionLaunchProvider"
RESOLVE = "extensionLaunchProvider.resolve"
REGISTER_OK = Rule(method=REGISTER, actions=[reply(None)])
PLUGINS_OK = Rule(method="plugins.builtin.set", actions=[reply({})])
ENTRY = {
    "id": "project:weather",
    "name": "weather",
    "modulePath": "/repo/.github/extensions/weather/extension.mjs",
    "source": "project",
}


@contextlib.contextmanager
def providing(provider: Any, *rules: Rule) -> Iterator[tuple[FakeCLI, CopilotClient]]:
    with (
        FakeCLI(Scenario(rules=[REGISTER_OK, *rules])) as fake,
        CopilotClient(cli_path=fake.cli_path, extension_launch_provider=provider) as client,
    ):
        yield fake, client


def _wait_for_responses(fake: FakeCLI, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(fake.responses) < count:
        assert time.monotonic() < deadline, f"no {count} responses: {fake.responses}"
        time.sleep(0.02)
    return fake.responses


def test_the_provider_is_registered_at_start_before_plugins_and_sessions(tmp_path):
    with providing(lambda request: None, PLUGINS_OK) as (fake, client):
        (registered,) = fake.requests(REGISTER)
        assert registered["params"] == {}
        client.create_session()
    methods = [m["method"] for m in fake.received if "method" in m]
    assert methods.index("connect") < methods.index(REGISTER) < methods.index("session.create")

    with (
        FakeCLI(Scenario(rules=[REGISTER_OK])) as fake,
        CopilotClient(cli_path=fake.cli_path) as client,
    ):
        client.create_session()
        assert fake.requests(REGISTER) == []  # no provider, no registration


def test_the_cli_gets_the_profile_from_a_worker_thread():
    seen: list[tuple[ExtensionLaunchRequest, str]] = []

    def launch(request: ExtensionLaunchRequest) -> ExtensionLaunchProfile:
        seen.append((request, threading.current_thread().name))
        return ExtensionLaunchProfile(
            executable="/opt/node22/bin/node",
            args=["--enable-source-maps", request.module_path],
            env={"EXT_TOKEN": "s3cret-value"},
        )

    with providing(launch) as (fake, _client):
        answer = fake.request(RESOLVE, ENTRY)
    assert answer["result"] == {
        "launch": {
            "executable": "/opt/node22/bin/node",
            "args": ["--enable-source-maps", ENTRY["modulePath"]],
            "env": {"EXT_TOKEN": "s3cret-value"},
        }
    }
    ((request, thread),) = seen
    assert thread.startswith("copilot-worker")
    assert request == ExtensionLaunchRequest(
        id="project:weather", name="weather", module_path=ENTRY["modulePath"], source="project"
    )
    assert "s3cret-value" not in repr(ExtensionLaunchProfile("node", env={"K": "s3cret-value"}))


def test_a_resolve_the_cli_sends_after_registering_is_answered_once():
    """The real order: the CLI asks only after the registration was answered."""
    rule = Rule(method=REGISTER, actions=[reply(None), request(RESOLVE, ENTRY, timeout=10)])
    calls: list[str] = []

    def launch(request: ExtensionLaunchRequest) -> dict[str, Any]:
        calls.append(request.id)
        return {"executable": "deno", "args": ["run", request.module_path]}

    with (
        FakeCLI(Scenario(rules=[rule])) as fake,
        CopilotClient(cli_path=fake.cli_path, extension_launch_provider=launch),
    ):
        (response,) = _wait_for_responses(fake, 1)
    assert response["result"] == {
        "launch": {"executable": "deno", "args": ["run", ENTRY["modulePath"]], "env": {}}
    }
    assert calls == ["project:weather"]


def test_none_means_not_supported_and_a_dict_is_a_profile():
    answers: dict[str, Any] = {
        "project:weather": None,
        "user:tuple-args": {"executable": "python3", "args": ("-m", "ext"), "env": {"A": "1"}},
        "plugin:p:bare": {"executable": "/bin/ext"},
    }
    with providing(lambda request: answers[request.id]) as (fake, _client):
        results = [
            fake.request(RESOLVE, {**ENTRY, "id": entry_id})["result"] for entry_id in answers
        ]
        assert len(fake.responses) == len(answers)  # one answer per request
    assert results == [
        {},
        {"launch": {"executable": "python3", "args": ["-m", "ext"], "env": {"A": "1"}}},
        {"launch": {"executable": "/bin/ext", "args": [], "env": {}}},
    ]


def test_a_provider_that_raises_gets_a_generic_error_and_is_logged(caplog):
    def broken(request: ExtensionLaunchRequest) -> None:
        raise RuntimeError("vault /secret/path unreachable")

    with providing(broken) as (fake, _client):
        answer = fake.request(RESOLVE, ENTRY)
        assert answer["error"] == {"code": -32603, "message": "extension launch provider failed"}
        # the connection goes on
        assert fake.request(RESOLVE, ENTRY)["error"]["code"] == -32603
    (record, *_) = [r for r in caplog.records if "extension_launch_provider raised" in r.message]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "project:weather" in record.getMessage()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("node ext.mjs", "not str"),
        (["node"], "not list"),
        ({"executable": ""}, "non-empty"),
        ({"args": []}, "needs an executable"),
        ({"executable": "node", "args": "ext.mjs"}, "must be a list of str"),
        ({"executable": "node", "args": ["ok", 3]}, "args[1] must be a str"),
        ({"executable": "node", "env": {"API_KEY": 12345}}, "env['API_KEY'] must be a str"),
        ({"executable": "node", "env": ["A=1"]}, "env must be a dict"),
        ({"executable": "node", "environment": {}}, "unknown launch profile key 'environment'"),
        (ExtensionLaunchProfile("node", env={"API_KEY": None}), "env['API_KEY'] must be a str"),  # type: ignore[dict-item]
    ],
)  # fmt: skip
def test_a_bad_profile_is_an_error_and_logged_without_env_values(value, reason, caplog):
    with providing(lambda request: value) as (fake, _client):
        answer = fake.request(RESOLVE, ENTRY)
        assert answer["error"] == {"code": -32603, "message": "invalid extension launch profile"}
    assert "invalid launch profile" in caplog.text and reason in caplog.text
    assert "12345" not in caplog.text


def test_bad_params_and_a_client_without_a_provider_are_refused():
    with providing(lambda request: None) as (fake, _client):
        bad = fake.request(RESOLVE, {"id": "project:x", "name": "x"})
        assert bad["error"]["code"] == -32602
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path):
        answer = fake.request(RESOLVE, ENTRY)
        assert answer["error"]["code"] == -32603
        assert "no extension_launch_provider" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        (lambda: None, "extension_launch_provider must accept 1 positional argument"),
        (lambda request, extra: None, "extension_launch_provider must accept 1 positional argument"),
        ("node", "extension_launch_provider must be callable"),
    ],
)  # fmt: skip
def test_a_provider_of_the_wrong_shape_is_refused_when_the_client_is_built(provider, message):
    with pytest.raises(TypeError, match=message):
        CopilotClient(auto_start=False, extension_launch_provider=provider)


def test_an_older_cli_without_the_method_is_a_warning_not_a_failure(caplog):
    with (
        FakeCLI(Scenario()) as fake,  # the fake does not know the method (a CLI predating it)
        CopilotClient(cli_path=fake.cli_path, extension_launch_provider=lambda r: None) as client,
    ):
        assert client.state.value == "connected"
        client.create_session()
    warnings = [r for r in caplog.records if REGISTER in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_another_registration_error_fails_start():
    rule = Rule(method=REGISTER, actions=[error(-32603, "provider already registered")])
    with FakeCLI(Scenario(rules=[rule])) as fake:
        client = CopilotClient(
            cli_path=fake.cli_path, auto_start=False, extension_launch_provider=lambda r: None
        )
        with pytest.raises(JsonRpcError, match="already registered"):
            client.start()
        assert client.state.value == "error"
        fake.wait_for_exit(timeout=10)


def test_profile_to_wire_checks_without_a_cli():
    profile = ExtensionLaunchProfile("node", ["a"], {"K": "v"})
    assert profile_to_wire(profile) == {"executable": "node", "args": ["a"], "env": {"K": "v"}}
    assert profile.to_wire() == profile_to_wire(
        {"executable": "node", "args": ["a"], "env": {"K": "v"}}
    )
    with pytest.raises(TypeError, match="not NoneType"):
        profile_to_wire(None)
