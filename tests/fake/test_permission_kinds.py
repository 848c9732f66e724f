"""Permission kinds of newer CLIs: request kinds this SDK does not know reach the handler as
plain strings, and the decisions newer CLIs accept are sent (docs/CLI_VERSIONS.md,
"Permissions"); a decision no CLI accepts is refused before it can fail the tool."""

from __future__ import annotations

import pytest

from copilot_sync import PermissionRequest, PermissionRequestResult

from .conftest import running
from .test_callbacks import PERMISSION_ANSWER, answer_to, request_permission

pytestmark = pytest.mark.timeout(60)

PATH_PROMPT = {
    "kind": "path",
    "accessKind": "read",
    "paths": ["/etc/hostname"],
    "readOnlyDirectories": ["/etc"],
    "toolCallId": "c1",
}


def test_an_unknown_request_kind_reaches_the_handler_as_a_string():
    seen = []

    def policy(request, invocation):
        seen.append(request)
        return "approve-once"

    with running() as (fake, client):
        session = client.create_session(on_permission_request=policy)
        rid = request_permission(
            fake,
            session.session_id,
            {"kind": "teleport", "toolCallId": "c9", "destination": "moon", "steps": 3},
        )
        assert answer_to(fake, PERMISSION_ANSWER, rid)["result"] == {"kind": "approve-once"}
    (request,) = seen
    assert request.kind == "teleport" and isinstance(request.kind, str)
    assert type(request) is PermissionRequest  # the generic class: no typed fields to offer
    assert request["destination"] == "moon" and request["steps"] == 3


def test_approve_read_only_for_session_sends_its_directories():
    def policy(request, invocation):
        prompt = invocation["prompt_request"]
        return PermissionRequestResult(
            kind="approve-read-only-for-session", directories=prompt["readOnlyDirectories"]
        )

    with running() as (fake, client):
        session = client.create_session(on_permission_request=policy)
        rid = request_permission(
            fake,
            session.session_id,
            {"kind": "read", "path": "/etc/hostname", "toolCallId": "c1"},
            promptRequest=PATH_PROMPT,
        )
        result = answer_to(fake, PERMISSION_ANSWER, rid)["result"]
    assert result == {"kind": "approve-read-only-for-session", "directories": ["/etc"]}


def test_approve_read_only_for_session_from_a_dict():
    with running() as (fake, client):
        session = client.create_session(
            on_permission_request=lambda request, invocation: {
                "kind": "approve-read-only-for-session",
                "directories": ["/etc"],
            }
        )
        rid = request_permission(
            fake, session.session_id, {"kind": "read", "path": "/etc/x"}, promptRequest=PATH_PROMPT
        )
        assert answer_to(fake, PERMISSION_ANSWER, rid)["result"]["directories"] == ["/etc"]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"kind": "approve-read-only-for-session"}, ValueError, "needs directories"),
        (
            {"kind": "approve-read-only-for-session", "directories": "/etc"},
            TypeError,
            "list of directory",
        ),
        ({"kind": "Not A Kind!"}, ValueError, "unknown permission decision"),
        ({"kind": 3}, TypeError, "kind must be a string"),
    ],
)
def test_decisions_that_cannot_be_right_are_refused_at_once(arguments, error, match):
    with pytest.raises(error, match=match):
        PermissionRequestResult(**arguments)


def test_a_handler_returning_a_malformed_decision_still_answers():
    """The handler's bad decision is logged and answered with the documented default."""
    with running() as (fake, client):
        session = client.create_session(
            on_permission_request=lambda request, invocation: "Not A Kind!"
        )
        rid = request_permission(fake, session.session_id, {"kind": "read", "path": "/x"})
        assert answer_to(fake, PERMISSION_ANSWER, rid)["result"] == {"kind": "user-not-available"}
