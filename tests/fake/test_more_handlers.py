"""The handlers of the official SDK's parity list, against the fake CLI: leaving plan mode
(``on_exit_plan_mode_request``), switching to auto mode (``on_auto_mode_switch_request``),
MCP OAuth (``on_mcp_auth_request``), per-session GitHub identity (``github_token``,
``github_token_provider``) and a client's own model list (``on_list_models``).

Each handler runs on the worker pool, is answered exactly once, and a handler that raises
or returns junk gets a logged, documented answer; no token ever reaches a log."""

from __future__ import annotations

import logging
import threading

import pytest

from copilot_sync import CopilotClient, ModelInfo
from copilot_sync.testing import FakeCLITimeout, Rule
from copilot_sync.testing.actions import error, reply

from .conftest import running

pytestmark = pytest.mark.timeout(60)

TOKEN = "gho_" + "A1b2C3d4" * 4  # shaped like a GitHub token
WAIT = 10


def _create(fake, **flags):
    (create,) = fake.requests("session.create")
    return {key: create["params"].get(key) for key in flags} if flags else create["params"]


# ---------------------------------------------------------------------------- exit plan mode


def test_exit_plan_mode_handler_decides_and_gets_snake_case_keys(fake, sdk):
    seen = []

    def decide(request, invocation):
        seen.append((request, invocation, threading.current_thread().name))
        return {"approved": False, "feedback": "Too risky.", "selected_action": "interactive"}

    session = sdk.create_session(on_exit_plan_mode_request=decide)
    assert _create(fake)["requestExitPlanMode"] is True
    params = {"sessionId": session.session_id, "summary": "Refactor", "planContent": "1. a", "actions": ["autopilot"],
              "recommendedAction": "autopilot"}  # fmt: skip
    answer = fake.request("exitPlanMode.request", params)
    assert answer["result"] == {
        "approved": False,
        "feedback": "Too risky.",
        "selectedAction": "interactive",
    }
    ((request, invocation, thread),) = seen
    assert request == {"summary": "Refactor", "plan_content": "1. a", "actions": ["autopilot"],
                       "recommended_action": "autopilot"}  # fmt: skip
    assert invocation == {"session_id": session.session_id}
    assert thread.startswith("copilot-worker")


@pytest.mark.parametrize(
    ("returned", "expected"),
    [(True, {"approved": True}), (False, {"approved": False}), ({"approved": True, "autoApproveEdits": True},
                                                                 {"approved": True, "autoApproveEdits": True})],
)  # fmt: skip
def test_exit_plan_mode_answers(fake, sdk, returned, expected):
    session = sdk.create_session(on_exit_plan_mode_request=lambda r, i: returned)
    answer = fake.request(
        "exitPlanMode.request", {"sessionId": session.session_id, "summary": "s", "actions": []}
    )
    assert answer["result"] == expected


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda r, i: "yes", "must return a bool or a dict"),
        (
            lambda r, i: {"approved": True, "selected_action": "warp"},
            "selected_action must be one of",
        ),
        (lambda r, i: {"approved": True, "colour": "red"}, "unknown key 'colour'"),
        (lambda r, i: 1 / 0, "division by zero"),
    ],
)
def test_exit_plan_mode_handler_errors_are_error_answers(fake, sdk, handler, message):
    session = sdk.create_session(on_exit_plan_mode_request=handler)
    answer = fake.request(
        "exitPlanMode.request", {"sessionId": session.session_id, "summary": "s", "actions": []}
    )
    assert answer["error"]["code"] == -32603 and message in answer["error"]["message"]
    # the client goes on
    assert fake.request("autoModeSwitch.request", {"sessionId": session.session_id})["result"] == {
        "response": "no"
    }


def test_without_the_handlers_the_flags_are_off(fake, sdk):
    sdk.create_session()
    assert _create(fake, requestExitPlanMode=1, requestAutoModeSwitch=1) == {
        "requestExitPlanMode": False, "requestAutoModeSwitch": False}  # fmt: skip


# ---------------------------------------------------------------------------- auto mode switch


@pytest.mark.parametrize(("returned", "wire"), [("yes", "yes"), ("yes_always", "yes_always"), (True, "yes"),
                                                (False, "no"), ("no", "no")])  # fmt: skip
def test_auto_mode_switch_handler(fake, sdk, returned, wire):
    seen = []
    session = sdk.create_session(
        on_auto_mode_switch_request=lambda r, i: seen.append(r) or returned
    )
    assert _create(fake)["requestAutoModeSwitch"] is True
    params = {"sessionId": session.session_id, "errorCode": "rate_limited", "retryAfterSeconds": 30}
    assert fake.request("autoModeSwitch.request", params)["result"] == {"response": wire}
    assert seen == [{"error_code": "rate_limited", "retry_after_seconds": 30}]


def test_auto_mode_switch_junk_is_an_error_answer(fake, sdk):
    session = sdk.create_session(on_auto_mode_switch_request=lambda r, i: "maybe")
    answer = fake.request("autoModeSwitch.request", {"sessionId": session.session_id})
    assert answer["error"]["code"] == -32603 and "yes, yes_always, no" in answer["error"]["message"]


def test_handlers_are_checked_when_the_session_is_created(sdk):
    with pytest.raises(TypeError, match="on_auto_mode_switch_request"):
        sdk.create_session(on_auto_mode_switch_request=lambda request: "no")
    with pytest.raises(TypeError, match="did you mean 'on_exit_plan_mode_request'"):
        sdk.create_session(on_exit_plan_mode=lambda r, i: True)


# ---------------------------------------------------------------------------- MCP OAuth


REQUIRED = {"requestId": "oauth-1", "serverName": "notes", "serverUrl": "https://127.0.0.1:9/mcp", "reason": "initial",
            "wwwAuthenticateParams": {"scope": "notes.read"}}  # fmt: skip


def _interest_rule():
    return Rule(method="session.eventLog.registerInterest", actions=[reply({"handle": "h1"})])


def test_mcp_auth_handler_supplies_a_token_and_the_session_registers_interest(caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    seen = []
    with running([_interest_rule()]) as (fake, client):

        def authorize(request, invocation):
            seen.append((request, invocation))
            return {"access_token": TOKEN, "expires_in": 600}

        session = client.create_session(on_mcp_auth_request=authorize)
        (interest,) = fake.requests("session.eventLog.registerInterest")
        assert interest["params"] == {
            "sessionId": session.session_id,
            "eventType": "mcp.oauth_required",
        }
        fake.emit(session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True)
        fake.emit(
            session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True
        )  # repeated: answered once
        answer = fake.wait_for_request("session.mcp.oauth.handlePendingRequest", timeout=WAIT)
        assert answer["params"] == {"sessionId": session.session_id, "requestId": "oauth-1",
                                    "result": {"kind": "token", "accessToken": TOKEN, "expiresIn": 600}}  # fmt: skip
        session.disconnect()
        assert len(fake.requests("session.mcp.oauth.handlePendingRequest")) == 1
    ((request, invocation),) = seen
    assert request["server_name"] == "notes" and request["www_authenticate_params"] == {
        "scope": "notes.read"
    }
    assert invocation == {"session_id": session.session_id}
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (lambda r, i: None, {"kind": "cancelled"}),
        (lambda r, i: {"kind": "cancelled"}, {"kind": "cancelled"}),
        (lambda r, i: 1 / 0, {"kind": "cancelled"}),  # raised: logged, cancelled
        (lambda r, i: "token", {"kind": "cancelled"}),  # junk: logged, cancelled
        (
            lambda r, i: {"kind": "runtime_refresh"},
            {"kind": "cancelled"},
        ),  # not offered by this request
    ],
)
def test_mcp_auth_cancels_on_none_errors_and_junk(handler, expected, caplog):
    with running([_interest_rule()]) as (fake, client):
        session = client.create_session(on_mcp_auth_request=handler)
        fake.emit(session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True)
        answer = fake.wait_for_request("session.mcp.oauth.handlePendingRequest", timeout=WAIT)
        assert answer["params"]["result"] == expected


def test_mcp_auth_completed_elsewhere_is_never_answered():
    release = threading.Event()
    started = threading.Event()

    def slow(request, invocation):
        started.set()
        release.wait(WAIT)
        return {"access_token": TOKEN}

    with running([_interest_rule()]) as (fake, client):
        session = client.create_session(on_mcp_auth_request=slow)
        fake.emit(session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True)
        assert started.wait(WAIT)
        fake.emit(
            session.session_id,
            "mcp.oauth_completed",
            {"requestId": "oauth-1", "outcome": "token"},
            ephemeral=True,
        )
        session.send_and_wait("hi", timeout=WAIT)  # the completion has been seen by now
        release.set()
        with pytest.raises(FakeCLITimeout):  # the handler has returned, and its answer is not sent
            fake.wait_for_request("session.mcp.oauth.handlePendingRequest", timeout=1.5)


def test_mcp_auth_runtime_refresh_when_offered():
    with running([_interest_rule()]) as (fake, client):
        session = client.create_session(
            on_mcp_auth_request=lambda r, i: {"kind": "runtime_refresh"}
        )
        fake.emit(
            session.session_id,
            "mcp.oauth_required",
            {**REQUIRED, "runtimeRefreshSupported": True},
            ephemeral=True,
        )
        answer = fake.wait_for_request("session.mcp.oauth.handlePendingRequest", timeout=WAIT)
        assert answer["params"]["result"] == {"kind": "runtimeRefresh"}


def test_mcp_auth_on_a_cli_without_register_interest_still_works(caplog):
    caplog.set_level(logging.INFO, logger="copilot_sync")
    with running() as (
        fake,
        client,
    ):  # the fake answers registerInterest -32601, as an old CLI would
        session = client.create_session(on_mcp_auth_request=lambda r, i: {"access_token": "t"})
        assert "could not register interest in mcp.oauth_required" in caplog.text
        fake.emit(session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True)
        answer = fake.wait_for_request("session.mcp.oauth.handlePendingRequest", timeout=WAIT)
        assert answer["params"]["result"] == {"kind": "token", "accessToken": "t"}


def test_without_an_mcp_auth_handler_the_sdk_stays_out(fake, sdk):
    session = sdk.create_session()
    fake.emit(session.session_id, "mcp.oauth_required", REQUIRED, ephemeral=True)
    session.send_and_wait("hi", timeout=WAIT)  # the event has been seen by now
    assert fake.requests("session.eventLog.registerInterest") == []
    assert fake.requests("session.mcp.oauth.handlePendingRequest") == []


# ---------------------------------------------------------------------------- GitHub identity


def test_github_token_goes_in_session_create_and_nowhere_else(fake, sdk, caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    session = sdk.create_session(github_token=TOKEN)
    assert _create(fake)["gitHubToken"] == TOKEN
    assert TOKEN not in repr(session) and TOKEN not in caplog.text


def test_github_token_and_provider_are_exclusive(sdk):
    with pytest.raises(ValueError, match="give one"):
        sdk.create_session(github_token=TOKEN, github_token_provider=lambda args: None)
    with pytest.raises(ValueError, match="BYOK provider= has its own api_key"):
        sdk.create_session(
            github_token_provider=lambda args: None, provider={"type": "openai", "base_url": "x"}
        )
    with pytest.raises(TypeError, match="github_token must be a str"):
        sdk.create_session(github_token=42)


def test_a_token_provider_answers_the_cli_under_its_registration(fake, sdk, caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    calls = []

    def provider(args):
        calls.append((args, threading.current_thread().name))
        return {"access_token": TOKEN, "expires_in": 8 * 3600, "token_type": "bearer"}

    session = sdk.create_session(github_token_provider=provider)
    params = _create(fake)
    registration = params["gitHubTokenProviderRegistrationId"]
    assert isinstance(registration, str) and "gitHubToken" not in params
    answer = fake.request("gitHubToken.getToken", {"registrationId": registration, "host": "https://github.com",
                                                   "sessionId": session.session_id, "reason": "initial"})  # fmt: skip
    assert answer["result"] == {
        "kind": "token",
        "accessToken": TOKEN,
        "expiresIn": 28800,
        "tokenType": "bearer",
    }
    ((args, thread),) = calls
    assert args == {
        "host": "https://github.com",
        "session_id": session.session_id,
        "reason": "initial",
    }
    assert thread.startswith("copilot-worker")
    # no session id in the request (before a cloud session has one): the registration's
    refresh = fake.request(
        "gitHubToken.getToken", {"registrationId": registration, "host": "h", "reason": "refresh"}
    )
    assert (
        refresh["result"]["accessToken"] == TOKEN
        and calls[1][0]["session_id"] == session.session_id
    )
    assert TOKEN not in caplog.text
    # a closed session's registration is gone
    session.disconnect()
    gone = fake.request(
        "gitHubToken.getToken", {"registrationId": registration, "host": "h", "reason": "refresh"}
    )
    assert (
        gone["error"]["code"] == -32603 and "no GitHub token provider" in gone["error"]["message"]
    )


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ({"access_token": TOKEN, "expires_in": 60}, "at least 3601"),
        ({"access_token": TOKEN}, "at least 3601"),
        (TOKEN, "must return a dict or None"),
        ({"token": TOKEN, "expires_in": 7200}, "must return {'access_token'"),
    ],
)
def test_a_provider_returning_junk_is_an_error_that_never_quotes_the_token(
    fake, sdk, caplog, returned, message
):
    session = sdk.create_session(github_token_provider=lambda args: returned)
    registration = _create(fake)["gitHubTokenProviderRegistrationId"]
    answer = fake.request("gitHubToken.getToken", {"registrationId": registration, "host": "h", "reason": "initial",
                                                   "sessionId": session.session_id})  # fmt: skip
    assert answer["error"]["code"] == -32603 and message in answer["error"]["message"]
    assert TOKEN not in answer["error"]["message"] and TOKEN not in caplog.text


def test_a_provider_that_raises_or_cancels(fake, sdk):
    outcomes = iter([RuntimeError("vault sealed"), None, {"kind": "cancelled"}])

    def provider(args):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sdk.create_session(github_token_provider=provider)
    registration = _create(fake)["gitHubTokenProviderRegistrationId"]
    ask = {"registrationId": registration, "host": "h", "reason": "initial"}
    raised = fake.request("gitHubToken.getToken", ask)
    assert raised["error"]["code"] == -32603 and "raised RuntimeError" in raised["error"]["message"]
    assert fake.request("gitHubToken.getToken", ask)["result"] == {"kind": "cancelled"}
    assert fake.request("gitHubToken.getToken", ask)["result"] == {"kind": "cancelled"}


def test_a_failed_create_drops_the_registration():
    refuse = Rule(method="session.create", times=1, actions=[error(-32603, "no")])
    with running([refuse]) as (fake, client):
        with pytest.raises(Exception, match="no"):
            client.create_session(github_token_provider=lambda args: None)
        (create,) = fake.requests("session.create")
        registration = create["params"]["gitHubTokenProviderRegistrationId"]
        gone = fake.request(
            "gitHubToken.getToken",
            {"registrationId": registration, "host": "h", "reason": "initial"},
        )
        assert "no GitHub token provider" in gone["error"]["message"]


# ---------------------------------------------------------------------------- on_list_models


def test_on_list_models_answers_instead_of_the_cli():
    calls = []

    def models():
        calls.append(threading.current_thread().name)
        return [
            {"id": "local-llama", "name": "Llama (local)"},
            ModelInfo.from_dict({"id": "qwen", "name": "Qwen"}),
        ]

    with running() as (fake, _):
        with CopilotClient(cli_path=fake.cli_path, on_list_models=models) as client:
            listed = client.list_models()
            assert [m.id for m in listed] == ["local-llama", "qwen"] and listed[
                0
            ].name == "Llama (local)"
            assert client.list_models() == listed and len(calls) == 1  # cached
            client.list_models(refresh=True)
            assert len(calls) == 2
        assert fake.requests("models.list") == []


def test_on_list_models_is_checked():
    with pytest.raises(TypeError, match="on_list_models"):
        CopilotClient(cli_path="copilot", on_list_models=lambda which: [])
    with running() as (fake, _):
        with CopilotClient(
            cli_path=fake.cli_path, on_list_models=lambda: [{"name": "no id"}]
        ) as client:
            with pytest.raises(TypeError, match="with an 'id'"):
                client.list_models()
