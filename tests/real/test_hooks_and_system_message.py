"""Hooks (``hooks.invoke``) and system-message customisation against the real CLI (scripted model).

Each test checks what the model received: the user prompt, the system prompt, the tool
messages, and the ``<system_reminder>`` context a hook adds."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from copilot_sync import PermissionHandler, define_tool
from copilot_sync._versions import cli_at_least

from .conftest import open_session

TIMEOUT = 30


def _tool_message(request, call_id) -> str:
    return next(r["content"] for r in request.tool_results if r["tool_call_id"] == call_id)


def _all_text(request) -> str:
    """Every message the model got, as one string (context may arrive in any message)."""
    parts = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return "\n".join(parts)


def _make_greet(calls):
    @define_tool
    def greet(name: str) -> str:
        """Greets someone."""
        calls.append(name)
        return f"Hello, {name}!"

    return greet


# ---------------------------------------------------------------------------- hooks


def test_hooks_fire_in_order_with_wire_inputs(client, model):
    calls: list[str] = []
    fired: list[tuple[str, dict, dict]] = []
    lock = threading.Lock()

    def record(name):
        def hook(hook_input, invocation):
            with lock:
                fired.append((name, hook_input, invocation))
            return None

        return hook

    names = [
        "on_user_prompt_submitted",
        "on_session_start",
        "on_pre_tool_use",
        "on_post_tool_use",
        "on_session_end",
    ]
    model.add_tool_call("greet", {"name": "Ada"}, call_id="call_greet")
    model.add_reply("Greeted.")
    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=PermissionHandler.approve_all,
        hooks={name: record(name) for name in names},
    ) as session:
        session.send_and_wait("Greet Ada", timeout=TIMEOUT)
        session_id = session.session_id

    if cli_at_least(client.server_version, "1.0.102"):
        # docs/CLI_VERSIONS.md "Hooks": sessionStart first, sessionEnd once when the session closes
        expected = ["on_session_start", "on_user_prompt_submitted", "on_pre_tool_use", "on_post_tool_use",
                    "on_session_end"]  # fmt: skip
        end_reason = "user_exit"
    else:
        expected, end_reason = names, "complete"
    assert [name for name, _, _ in fired] == expected
    by_name = {name: hook_input for name, hook_input, _ in fired}
    assert all(invocation == {"session_id": session_id} for _, _, invocation in fired)
    for hook_input in by_name.values():
        assert (
            isinstance(hook_input["timestamp"], dt.datetime)
            and hook_input["timestamp"].tzinfo is not None
        )
        assert "workingDirectory" in hook_input and "cwd" not in hook_input
    assert by_name["on_user_prompt_submitted"]["prompt"] == "Greet Ada"
    assert by_name["on_session_start"]["source"] == "new"
    assert by_name["on_pre_tool_use"]["toolName"] == "greet"
    assert by_name["on_pre_tool_use"]["toolArgs"] == {"name": "Ada"}
    assert by_name["on_post_tool_use"]["toolName"] == "greet"
    assert "Hello, Ada!" in str(by_name["on_post_tool_use"]["toolResult"])
    assert by_name["on_session_end"]["reason"] == end_reason
    assert calls == ["Ada"]


def test_pre_tool_use_deny_stops_the_tool(client, model):
    calls: list[str] = []
    asked = []
    model.add_tool_call("greet", {"name": "Mallory"}, call_id="call_deny")
    model.add_reply("Not allowed.")

    def guard(hook_input, invocation):
        if hook_input["toolArgs"].get("name") == "Mallory":
            return {"permissionDecision": "deny", "permissionDecisionReason": "Mallory is blocked"}
        return None

    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=lambda r, i: asked.append(r) or "approve-once",
        hooks={"on_pre_tool_use": guard},
    ) as session:
        session.send_and_wait("Greet Mallory", timeout=TIMEOUT)

    assert calls == [] and asked == []
    assert (
        _tool_message(model.requests[1], "call_deny")
        == "Denied by preToolUse hook: Mallory is blocked"
    )


def test_pre_tool_use_modified_args_reach_the_tool(client, model):
    calls: list[str] = []
    model.add_tool_call("greet", {"name": "ada"}, call_id="call_mod")
    model.add_reply("Done.")

    def capitalise(hook_input, invocation):
        return {"modifiedArgs": {"name": hook_input["toolArgs"]["name"].title()}}

    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=PermissionHandler.approve_all,
        hooks={"on_pre_tool_use": capitalise},
    ) as session:
        session.send_and_wait("Greet ada", timeout=TIMEOUT)

    assert calls == ["Ada"]
    assert _tool_message(model.requests[1], "call_mod") == "Hello, Ada!"


def test_post_tool_use_modified_result_and_additional_context(client, model):
    calls: list[str] = []
    model.add_tool_call("greet", {"name": "Ada"}, call_id="call_post")
    model.add_reply("Done.")

    def rewrite(hook_input, invocation):
        return {"modifiedResult": {"textResultForLlm": "[redacted greeting]", "resultType": "success"},
                "additionalContext": "POST-HOOK-CONTEXT-42"}  # fmt: skip

    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=PermissionHandler.approve_all,
        hooks={"on_post_tool_use": rewrite},
    ) as session:
        session.send_and_wait("Greet Ada", timeout=TIMEOUT)

    assert calls == ["Ada"]
    follow_up = model.requests[1]
    seen = _tool_message(follow_up, "call_post")
    # Observed on 1.0.81: the replaced result, then the context appended to the tool message.
    assert "Hello, Ada!" not in _all_text(follow_up)
    assert seen.startswith("[redacted greeting]")
    assert seen.endswith("Additional guidance from postToolUse hooks:\nPOST-HOOK-CONTEXT-42")


def test_user_prompt_submitted_modified_prompt_reaches_the_model(client, model):
    prompts = []

    def rewrite(hook_input, invocation):
        prompts.append(hook_input["prompt"])
        return {
            "modifiedPrompt": hook_input["prompt"].upper() + " (rewritten)",
            "additionalContext": "CTX-USER-7",
        }

    with open_session(client, model, hooks={"on_user_prompt_submitted": rewrite}) as session:
        reply = session.send_and_wait("say hello", timeout=TIMEOUT)

    assert prompts == ["say hello"]
    request = model.requests[0]
    assert request.user_prompt.startswith("SAY HELLO (rewritten)")
    assert "say hello" not in _all_text(request)
    assert "CTX-USER-7" in _all_text(request)
    assert reply.data.content.startswith("You said: SAY HELLO (rewritten)")


def test_session_start_and_end_fire_with_effects(client, model):
    starts, ends = [], []

    def on_start(hook_input, invocation):
        starts.append(hook_input)
        return {"additionalContext": "START-CONTEXT-99"}

    model.add_reply("one")
    model.add_reply("two")
    with open_session(
        client,
        model,
        hooks={"on_session_start": on_start, "on_session_end": lambda i, inv: ends.append(i)},
    ) as session:
        session.send_and_wait("first", timeout=TIMEOUT)
        session.send_and_wait("second", timeout=TIMEOUT)

    assert [s["source"] for s in starts] == ["new"]  # the first send only
    if cli_at_least(client.server_version, "1.0.102"):
        assert [e["reason"] for e in ends] == ["user_exit"]  # once, when the session closed
    else:
        assert [e["reason"] for e in ends] == [
            "complete",
            "complete",
        ]  # the end of every send's loop
    # Observed on 1.0.81: the context arrives as a user message of its own, before the prompt.
    first_users = [m["content"] for m in model.requests[0].messages if m["role"] == "user"]
    assert first_users[0] == "START-CONTEXT-99" and first_users[-1].endswith("first")
    assert "START-CONTEXT-99" in _all_text(model.requests[1])  # it stays in the history


def test_a_hook_that_raises_does_not_break_the_turn(client, model, caplog):
    calls: list[str] = []

    def broken(hook_input, invocation):
        raise RuntimeError("hook exploded")

    model.add_tool_call("greet", {"name": "Ada"}, call_id="call_ok")
    model.add_reply("Still fine.")
    with caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        with open_session(
            client,
            model,
            tools=[_make_greet(calls)],
            on_permission_request=PermissionHandler.approve_all,
            hooks={
                "on_user_prompt_submitted": broken,
                "on_pre_tool_use": broken,
                "on_post_tool_use": broken,
            },
        ) as session:
            reply = session.send_and_wait("Greet Ada", timeout=TIMEOUT)

    assert reply.data.content == "Still fine."
    assert calls == ["Ada"]
    assert model.requests[0].user_prompt == "Greet Ada"
    assert _tool_message(model.requests[1], "call_ok") == "Hello, Ada!"
    raised = [r for r in caplog.records if "hook" in r.getMessage() and "raised" in r.getMessage()]
    assert len(raised) == 3


# ---------------------------------------------------------------------------- system message


def test_customize_system_message_transform_and_static_sections(client, model):
    originals: dict[str, str] = {}

    def tone(content: str) -> str:
        originals["tone"] = content
        return "TONE-MARKER: answer like a pirate."

    system_message = {
        "mode": "customize",
        "sections": {
            "tone": tone,
            "safety": {"action": "append", "content": "SAFETY-APPENDIX-17"},
            "guidelines": {"action": "replace", "content": "GUIDELINES-REPLACED-23"},
        },
    }
    model.add_reply("one")
    model.add_reply("two")
    with open_session(client, model, system_message=system_message) as session:
        session.send_and_wait("hello", timeout=TIMEOUT)
        session.send_and_wait("again", timeout=TIMEOUT)

    assert originals["tone"] and "TONE-MARKER" not in originals["tone"]
    for request in model.requests:
        prompt = request.system_prompt
        assert "TONE-MARKER: answer like a pirate." in prompt
        assert originals["tone"].strip() not in prompt
        assert "SAFETY-APPENDIX-17" in prompt
        assert "GUIDELINES-REPLACED-23" in prompt


def test_a_failing_transform_keeps_the_section(client, model, caplog):
    seen: list[str] = []

    def broken(content: str) -> str:
        seen.append(content)
        raise ValueError("transform bug")

    with caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        with open_session(
            client, model, system_message={"mode": "customize", "sections": {"tone": broken}}
        ) as session:
            reply = session.send_and_wait("hi", timeout=TIMEOUT)
    assert reply.data.content == "You said: hi"
    (original,) = seen
    assert original.strip() and original.strip() in model.requests[0].system_prompt
    assert any("transform" in r.getMessage() for r in caplog.records)


def test_append_and_replace_modes(client, model):
    with open_session(
        client, model, system_message={"mode": "append", "content": "APPENDED-MARKER-5"}
    ) as session:
        session.send_and_wait("hi", timeout=TIMEOUT)
    with open_session(
        client, model, system_message={"mode": "replace", "content": "You are REPLACED-MARKER-6."}
    ) as session:
        session.send_and_wait("hi", timeout=TIMEOUT)
    appended, replaced = model.requests
    assert "APPENDED-MARKER-5" in appended.system_prompt
    assert len(appended.system_prompt) > 1000  # the CLI's own prompt is still there
    assert replaced.system_prompt.strip() == "You are REPLACED-MARKER-6."


def test_error_occurred_hook_fires_on_a_failed_model_call(client, model):
    errors = []
    ends = []
    model.add_error(400, "scripted bad request")  # 400 is not retried
    with open_session(
        client,
        model,
        hooks={
            "on_error_occurred": lambda i, inv: errors.append(i),
            "on_session_end": lambda i, inv: ends.append(i),
        },
    ) as session:
        try:
            session.send_and_wait("hi", timeout=TIMEOUT)
        except Exception as exc:  # the turn fails with session.error
            failure = exc
        else:
            failure = None
    assert failure is not None and "scripted bad request" in str(failure)
    (error,) = errors
    assert isinstance(error["error"], str) and "scripted bad request" in error["error"]
    assert error["errorContext"] == "model_call"
    if cli_at_least(client.server_version, "1.0.102"):
        assert [e["reason"] for e in ends] == [
            "user_exit"
        ]  # no end for the error; one at the close
    else:
        assert [e["reason"] for e in ends] == ["error"]
        assert isinstance(ends[0].get("error", ""), str)


def test_a_hook_returning_junk_is_ignored(client, model, caplog):
    with caplog.at_level(logging.WARNING, logger="copilot_sync.session"):
        with open_session(
            client, model, hooks={"on_user_prompt_submitted": lambda i, inv: "not a dict"}
        ) as session:
            reply = session.send_and_wait("plain", timeout=TIMEOUT)
    assert reply.data.content == "You said: plain"
    assert model.requests[0].user_prompt == "plain"
    assert any("not a dict" in r.getMessage() for r in caplog.records)


def test_customize_remove_drops_sections(client, model):
    originals: dict[str, str] = {}

    def keep(section):
        def transform(content: str) -> str:
            originals[section] = content
            return content

        return transform

    sections = ("code_change_rules", "tool_efficiency")
    with open_session(
        client,
        model,
        system_message={"mode": "customize", "sections": {s: keep(s) for s in sections}},
    ) as session:
        session.send_and_wait("hi", timeout=TIMEOUT)
    with open_session(
        client,
        model,
        system_message={
            "mode": "customize",
            "sections": {s: {"action": "remove"} for s in sections},
        },
    ) as session:
        session.send_and_wait("hi", timeout=TIMEOUT)

    kept, removed = model.requests
    assert set(originals) == set(sections)
    for section in sections:
        text = originals[section].strip()
        assert len(text) > 20, section
        assert text in kept.system_prompt  # an identity transform changes nothing
        assert text not in removed.system_prompt
    assert len(removed.system_prompt) < len(kept.system_prompt)


def test_a_hook_may_call_back_into_the_session(client, model):
    holder = {}
    infos = []

    def pre(hook_input, invocation):
        holder["session"].log(f"about to run {hook_input['toolName']}", timeout=10)
        return None

    calls: list[str] = []
    model.add_tool_call("greet", {"name": "Ada"}, call_id="call_logged")
    model.add_reply("ok")
    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=PermissionHandler.approve_all,
        hooks={"on_pre_tool_use": pre},
    ) as session:
        holder["session"] = session
        session.on("session.info", lambda e: infos.append(e.raw["data"].get("message")))
        session.send_and_wait("greet", timeout=TIMEOUT)
    assert infos == ["about to run greet"]
    assert calls == ["Ada"]


def test_pre_tool_use_allow_skips_the_permission_handler_and_ask_routes_to_it(client, model):
    calls: list[str] = []
    asked = []

    def decide(hook_input, invocation):
        if hook_input["toolArgs"]["name"] == "Allowed":
            return {"permissionDecision": "allow"}
        return {"permissionDecision": "ask", "permissionDecisionReason": "please check Asked"}

    def policy(request, invocation):
        asked.append(request)
        return "approve-once"

    model.add_tool_call("greet", {"name": "Allowed"}, call_id="c_allow")
    model.add_tool_call("greet", {"name": "Asked"}, call_id="c_ask")
    model.add_reply("ok")
    with open_session(
        client,
        model,
        tools=[_make_greet(calls)],
        on_permission_request=policy,
        hooks={"on_pre_tool_use": decide},
    ) as session:
        session.send_and_wait("greet twice", timeout=TIMEOUT)

    assert calls == ["Allowed", "Asked"]
    (request,) = asked  # only the "ask" call reached the permission handler, as a "hook" request
    assert request.kind == "hook"
    assert request.tool_name == "greet" and request.hook_message == "please check Asked"
    assert _tool_message(model.requests[-1], "c_allow") == "Hello, Allowed!"
    assert _tool_message(model.requests[-1], "c_ask") == "Hello, Asked!"


def test_post_tool_use_failure_hook_gets_the_error_not_the_exception(client, model):
    from copilot_sync import ToolResult

    failures, posts = [], []

    @define_tool
    def flaky(mode: str):
        """Fails one way or another."""
        if mode == "raise":
            raise RuntimeError("internal secret detail")
        return ToolResult(
            "Structured failure for the model.", result_type="failure", error="upstream 503"
        )

    model.add_tool_calls(
        [("flaky", {"mode": "raise"}, "c_raise"), ("flaky", {"mode": "result"}, "c_result")]
    )
    model.add_reply("ok")
    with open_session(
        client,
        model,
        tools=[flaky],
        on_permission_request=PermissionHandler.approve_all,
        hooks={
            "on_post_tool_use_failure": lambda i, inv: failures.append(i),
            "on_post_tool_use": lambda i, inv: posts.append(i),
        },
    ) as session:
        session.send_and_wait("go", timeout=TIMEOUT)

    assert posts == []  # failed calls get postToolUseFailure instead
    by_mode = {f["toolArgs"]["mode"]: f["error"] for f in failures}
    assert by_mode == {"raise": "Tool execution failed", "result": "upstream 503"}
    assert _tool_message(model.requests[-1], "c_result") == "Structured failure for the model."


def test_user_prompt_transformed_hook_replaces_the_wire_prompt(client, model):
    seen = []

    def transformed(hook_input, invocation):
        seen.append(hook_input)
        return {"modifiedTransformedPrompt": "TRANSFORMED-PROMPT-3"}

    with open_session(client, model, hooks={"on_user_prompt_transformed": transformed}) as session:
        session.send_and_wait("original", timeout=TIMEOUT)
    (hook_input,) = seen
    assert hook_input["prompt"] == "original"
    assert hook_input["transformedPrompt"].endswith(
        "original"
    )  # with the CLI's <current_datetime> block
    assert model.requests[0].last_user_message == "TRANSFORMED-PROMPT-3"
