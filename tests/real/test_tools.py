"""Custom tools against the real CLI (scripted model): round trips, failures, typed
arguments, concurrency, and tools added or removed while the session runs.

Every test asserts on what the model received: the tool message (``role: "tool"``) in the
request that follows the tool call, and the tools offered in each request."""

from __future__ import annotations

import dataclasses
import enum
import threading
from typing import Annotated, Literal, TypedDict

import pytest
from typing_extensions import NotRequired, Required

from copilot_sync import (
    JsonRpcError,
    PermissionHandler,
    Tool,
    ToolInvocation,
    ToolResult,
    define_tool,
)

from .conftest import open_session

TIMEOUT = 30


def _tool_message(request, call_id=None) -> str:
    """The text of the tool result the model got in ``request`` (the one for ``call_id``)."""
    results = request.tool_results
    assert results, f"no tool message in {request!r}: {request.messages}"
    if call_id is None:
        return results[-1]["content"]
    return next(r["content"] for r in results if r["tool_call_id"] == call_id)


def _offered(request, name):
    return next(t["function"] for t in request.tools if t.get("function", {}).get("name") == name)


def _completions(session):
    done = []
    session.on("tool.execution_complete", lambda e: done.append(e.raw["data"]))
    return done


# ---------------------------------------------------------------------------- round trips


def test_custom_tool_round_trip(client, model):
    calls = []

    @define_tool
    def get_weather(city: Annotated[str, "The city to look up"], invocation: ToolInvocation) -> str:
        """The current weather in a city."""
        calls.append((city, invocation.tool_name, invocation.tool_call_id, invocation.session_id))
        return f"Sunny, 22C in {city}"

    model.add_tool_call("get_weather", {"city": "Paris"}, call_id="call_weather_1")
    model.add_reply("It is sunny in Paris.")
    with open_session(
        client, model, tools=[get_weather], on_permission_request=PermissionHandler.approve_all
    ) as session:
        done = _completions(session)
        reply = session.send_and_wait("Weather in Paris?", timeout=TIMEOUT)
        session_id = session.session_id

    assert reply.data.content == "It is sunny in Paris."
    assert calls == [("Paris", "get_weather", "call_weather_1", session_id)]
    first, second = model.requests
    offered = _offered(first, "get_weather")
    assert offered["description"] == "The current weather in a city."
    assert offered["parameters"]["properties"]["city"] == {
        "type": "string",
        "description": "The city to look up",
    }
    assert offered["parameters"]["required"] == ["city"]
    assert _tool_message(second, "call_weather_1") == "Sunny, 22C in Paris"
    (complete,) = done
    assert complete["success"] is True
    assert complete["toolCallId"] == "call_weather_1"
    assert complete["result"]["content"] == "Sunny, 22C in Paris"


def test_return_values_reach_the_model_as_text_json_or_failure(client, model):
    @define_tool
    def as_dict(n: int) -> dict:
        """Returns a dict."""
        return {"n": n, "squares": [n * n, n * n * n]}

    @define_tool
    def as_none() -> None:
        """Returns nothing."""

    @define_tool
    def as_failure(reason: str) -> ToolResult:
        """Returns a failure the model should read."""
        return ToolResult(
            "City not found; try a larger city.",
            result_type="failure",
            error=f"upstream said {reason}",
        )

    model.add_tool_calls(
        [
            ("as_dict", {"n": 3}, "c_dict"),
            ("as_none", {}, "c_none"),
            ("as_failure", {"reason": "404"}, "c_fail"),
        ]
    )
    model.add_reply("ok")
    tools = [as_dict, as_none, as_failure]
    with open_session(
        client, model, tools=tools, on_permission_request=PermissionHandler.approve_all
    ) as session:
        done = _completions(session)
        session.send_and_wait("go", timeout=TIMEOUT)

    last = model.requests[-1]
    assert _tool_message(last, "c_dict") == '{"n":3,"squares":[9,27]}'
    assert _tool_message(last, "c_none") == "Tool returned no result."
    assert _tool_message(last, "c_fail") == "City not found; try a larger city."
    by_id = {d["toolCallId"]: d for d in done}
    assert by_id["c_dict"]["success"] is True
    assert by_id["c_none"]["success"] is False
    assert by_id["c_fail"]["success"] is False
    assert by_id["c_fail"]["error"]["message"] == "upstream said 404"


def test_a_tool_that_raises_gives_the_model_a_generic_failure(client, model, caplog):
    @define_tool
    def lookup(key: str) -> str:
        """Looks a key up."""
        raise RuntimeError(f"database password=hunter2 unreachable for {key}")

    model.add_tool_call("lookup", {"key": "k1"}, call_id="call_boom")
    model.add_reply("The lookup failed.")
    with caplog.at_level("WARNING", logger="copilot_sync.tools"):
        with open_session(
            client, model, tools=[lookup], on_permission_request=PermissionHandler.approve_all
        ) as session:
            done = _completions(session)
            reply = session.send_and_wait("look k1 up", timeout=TIMEOUT)

    assert reply.data.content == "The lookup failed."
    seen = _tool_message(model.requests[1], "call_boom")
    # The CLI's generic text: the exception's message never reaches the model.
    assert (
        seen
        == 'Failed to execute `lookup` tool with arguments: {"key":"k1"} due to error: Error: Tool execution failed'
    )
    (complete,) = done
    assert complete["success"] is False
    assert complete["error"] == {"message": "Tool execution failed", "code": "failure"}
    assert "hunter2" not in str(complete)
    assert any(
        "lookup" in r.getMessage() and "RuntimeError" in r.getMessage() for r in caplog.records
    )


# ---------------------------------------------------------------------------- typed arguments


@dataclasses.dataclass
class Window:
    start: int
    end: int = 100


class Options(TypedDict, total=False):
    limit: Required[int]
    verbose: NotRequired[bool]


class Severity(enum.Enum):
    LOW = "low"
    HIGH = "high"


def _search_tool(calls):
    @define_tool
    def search_logs(
        query: str,
        window: Window,
        level: Literal["info", "error"],
        tags: list[str],
        options: Options,
        severity: Severity = Severity.LOW,
        note: str | None = None,
    ) -> str:
        """Search the logs.

        Args:
            query: What to look for.
            window: The line window to search.
        """
        calls.append(
            {
                "query": query,
                "window": window,
                "level": level,
                "tags": tags,
                "options": options,
                "severity": severity,
                "note": note,
            }
        )
        return f"found {len(tags)} tags in {window.start}-{window.end}"

    return search_logs


def test_bad_typed_arguments_are_rejected_before_user_code(client, model):
    calls: list[dict] = []
    search_logs = _search_tool(calls)
    bad = {
        "query": 7,
        "window": {"start": "zero"},
        "level": "debug",
        "tags": "a,b",
        "options": {"verbose": True},
    }
    model.add_tool_call("search_logs", bad, call_id="call_bad")
    model.add_reply("I will fix my arguments.")
    with open_session(
        client, model, tools=[search_logs], on_permission_request=PermissionHandler.approve_all
    ) as session:
        done = _completions(session)
        session.send_and_wait("search", timeout=TIMEOUT)

    assert calls == []  # the function never ran
    params = _offered(model.requests[0], "search_logs")["parameters"]
    assert params["properties"]["level"]["enum"] == ["info", "error"]
    assert params["properties"]["window"]["required"] == ["start"]
    assert params["properties"]["options"]["required"] == ["limit"]
    assert params["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert params["properties"]["query"]["description"] == "What to look for."
    seen = _tool_message(model.requests[1], "call_bad")
    assert seen.startswith("Invalid arguments for tool 'search_logs':")
    for field in ("query", "window.start", "level", "tags", "options.limit"):
        assert f"\n{field}: " in seen, (field, seen)
    (complete,) = done
    assert complete["success"] is False


def test_good_typed_arguments_arrive_converted(client, model):
    calls: list[dict] = []
    search_logs = _search_tool(calls)
    good = {
        "query": "timeout",
        "window": {"start": 5},
        "level": "error",
        "tags": ["net", "db"],
        "options": {"limit": 3},
        "severity": "high",
    }
    model.add_tool_call("search_logs", good, call_id="call_good")
    model.add_reply("Found them.")
    with open_session(
        client, model, tools=[search_logs], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("search", timeout=TIMEOUT)

    (call,) = calls
    assert call["window"] == Window(start=5, end=100)
    assert isinstance(call["window"], Window)
    assert call["severity"] is Severity.HIGH
    assert (
        call["level"] == "error"
        and call["tags"] == ["net", "db"]
        and call["options"] == {"limit": 3}
    )
    assert call["note"] is None
    assert _tool_message(model.requests[1], "call_good") == "found 2 tags in 5-100"


# ---------------------------------------------------------------------------- concurrency


def test_tool_calls_of_one_turn_run_concurrently(client, model):
    barrier = threading.Barrier(3, timeout=10)
    threads: list[str] = []

    @define_tool
    def slow_echo(text: str) -> str:
        """Echoes after all three calls have started."""
        threads.append(threading.current_thread().name)
        barrier.wait()  # BrokenBarrierError (a failed call) unless all three run at once
        return f"echo:{text}"

    model.add_tool_calls([("slow_echo", {"text": t}, f"call_{t}") for t in ("a", "b", "c")])
    model.add_reply("all echoed")
    with open_session(
        client, model, tools=[slow_echo], on_permission_request=PermissionHandler.approve_all
    ) as session:
        done = _completions(session)
        reply = session.send_and_wait("echo three", timeout=TIMEOUT)

    assert reply.data.content == "all echoed"
    assert len(set(threads)) == 3 and all(name.startswith("copilot-worker") for name in threads)
    last = model.requests[-1]
    assert {t: _tool_message(last, f"call_{t}") for t in "abc"} == {t: f"echo:{t}" for t in "abc"}
    assert sorted(d["success"] for d in done) == [True, True, True]


# ---------------------------------------------------------------------------- run-time tools


def test_a_tool_registered_at_run_time_is_offered_and_called(client, model):
    @define_tool
    def roll_die(sides: int = 6) -> str:
        """Rolls a die."""
        return f"rolled {sides}"

    model.add_reply("no tools yet")
    model.add_tool_call("roll_die", {"sides": 20}, call_id="call_roll")
    model.add_reply("You rolled 20.")
    with open_session(
        client, model, on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("hello", timeout=TIMEOUT)
        assert session.get_tools() == []
        session.register_tool(roll_die)
        assert [t.name for t in session.get_tools()] == ["roll_die"]
        reply = session.send_and_wait("roll a d20", timeout=TIMEOUT)

    assert reply.data.content == "You rolled 20."
    before, after, result = model.requests
    assert "roll_die" not in before.tool_names
    assert "roll_die" in after.tool_names
    assert _tool_message(result, "call_roll") == "rolled 20"


def test_unregister_tool_removes_it_from_the_next_request(client, model):
    @define_tool
    def alpha() -> str:
        """Tool alpha."""
        return "A"

    @define_tool
    def beta() -> str:
        """Tool beta."""
        return "B"

    model.add_reply("one")
    model.add_reply("two")
    with open_session(
        client, model, tools=[alpha, beta], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("first", timeout=TIMEOUT)
        session.unregister_tool("alpha")
        assert [t.name for t in session.get_tools()] == ["beta"]
        session.send_and_wait("second", timeout=TIMEOUT)

    first, second = model.requests
    assert {"alpha", "beta"} <= set(first.tool_names)
    assert "alpha" not in second.tool_names and "beta" in second.tool_names


def test_raw_tool_and_skip_permission(client, model):
    """A hand-made ``Tool`` with a raw handler and a JSON Schema; ``skip_permission`` means no prompt."""
    seen: list[ToolInvocation] = []

    def handler(invocation: ToolInvocation) -> ToolResult:
        seen.append(invocation)
        return ToolResult(f"stored {invocation.arguments['key']}")

    store = Tool(
        "store",
        "Stores a key.",
        handler,
        parameters={
            "type": "object",
            "properties": {"key": {"type": "string"}},
            "required": ["key"],
        },
        skip_permission=True,
    )
    asked = []
    model.add_tool_call("store", {"key": "k9"}, call_id="call_store")
    model.add_reply("stored")
    with open_session(
        client, model, tools=[store], on_permission_request=lambda r, i: asked.append(r) or "reject"
    ) as session:
        session.send_and_wait("store k9", timeout=TIMEOUT)
        local = session.invoke_tool("store", {"key": "local"})

    assert asked == []  # skip_permission: the CLI never asked
    assert [i.arguments for i in seen] == [{"key": "k9"}, {"key": "local"}]
    assert local == ToolResult("stored local")
    assert _tool_message(model.requests[1], "call_store") == "stored k9"


def test_a_tool_handler_may_call_back_into_the_session(client, model):
    """A handler runs on a worker thread and may use the session (an RPC) without deadlock."""
    holder = {}
    infos = []

    @define_tool
    def noisy(step: str) -> str:
        """Logs a step to the session timeline."""
        event_id = holder["session"].log(f"working on {step}", timeout=10)
        return f"logged {step} as {bool(event_id)}"

    model.add_tool_call("noisy", {"step": "s1"}, call_id="call_noisy")
    model.add_reply("done")
    with open_session(
        client, model, tools=[noisy], on_permission_request=PermissionHandler.approve_all
    ) as session:
        holder["session"] = session
        session.on("session.info", lambda e: infos.append(e.raw["data"].get("message")))
        session.send_and_wait("go", timeout=TIMEOUT)
    assert "working on s1" in infos
    assert _tool_message(model.requests[1], "call_noisy") == "logged s1 as True"


def test_overriding_a_built_in_tool(client, model):
    seen = []

    @define_tool(name="grep", description="Our own grep.", overrides_built_in_tool=True)
    def our_grep(pattern: str) -> str:
        seen.append(pattern)
        return f"no match for {pattern} (custom grep)"

    model.add_tool_call("grep", {"pattern": "TODO"}, call_id="call_grep")
    model.add_reply("nothing")
    with open_session(
        client, model, tools=[our_grep], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("find TODOs", timeout=TIMEOUT)
    assert seen == ["TODO"]
    offered = [t["function"] for t in model.requests[0].tools if t["function"]["name"] == "grep"]
    assert len(offered) == 1 and offered[0]["description"] == "Our own grep."
    assert _tool_message(model.requests[1], "call_grep") == "no match for TODO (custom grep)"


def test_invoke_tool_runs_the_handler_locally_with_validation(client, model):
    calls: list[dict] = []
    search_logs = _search_tool(calls)
    with open_session(client, model, tools=[search_logs]) as session:
        bad = session.invoke_tool("search_logs", {"query": "x"})
        good = session.invoke_tool(
            "search_logs",
            {
                "query": "x",
                "window": {"start": 1, "end": 2},
                "level": "info",
                "tags": [],
                "options": {"limit": 1},
            },
        )
    assert (
        bad.result_type == "failure"
        and "missing required argument 'window'" in bad.text_result_for_llm
    )
    assert good == ToolResult("found 0 tags in 1-2")
    assert len(calls) == 1 and calls[0]["window"] == Window(1, 2)
    assert model.requests == []  # nothing went to the CLI or the model


def test_a_declaration_only_tool_is_left_to_whoever_answers(client, model):
    """The SDK never answers a tool it has no handler for; any client may,
    here this test itself through ``session.tools.handlePendingToolCall``."""
    manual = Tool(
        "manual_lookup", "Answered by hand.", parameters={"type": "object", "properties": {}}
    )
    answers = []

    def answer_by_hand(event):
        data = event.raw["data"]
        threading.Thread(
            target=lambda: answers.append(
                holder["session"]._rpc(
                    "session.tools.handlePendingToolCall",
                    {
                        "requestId": data["requestId"],
                        "result": {"textResultForLlm": "by hand", "resultType": "success"},
                    },
                    timeout=10,
                )
            )
        ).start()

    holder = {}
    model.add_tool_call("manual_lookup", {}, call_id="call_manual")
    model.add_reply("ok")
    with open_session(
        client, model, tools=[manual], on_permission_request=PermissionHandler.approve_all
    ) as session:
        holder["session"] = session
        session.on("external_tool.requested", answer_by_hand)
        session.send_and_wait("look it up", timeout=TIMEOUT)
    assert answers == [{"success": True}]
    assert _tool_message(model.requests[1], "call_manual") == "by hand"


def test_a_tool_can_register_another_tool_mid_turn(client, model):
    holder = {}

    @define_tool
    def secret() -> str:
        """The secret, available once unlocked."""
        return "the secret is 42"

    @define_tool
    def unlock() -> str:
        """Unlocks the secret tool."""
        holder["session"].register_tool(secret, timeout=10)
        return "unlocked"

    model.add_tool_call("unlock", {}, call_id="call_unlock")
    model.add_tool_call("secret", {}, call_id="call_secret")
    model.add_reply("It is 42.")
    with open_session(
        client, model, tools=[unlock], on_permission_request=PermissionHandler.approve_all
    ) as session:
        holder["session"] = session
        reply = session.send_and_wait("unlock then tell me the secret", timeout=TIMEOUT)
    assert reply.data.content == "It is 42."
    first, second, third = model.requests
    assert "secret" not in first.tool_names
    assert "secret" in second.tool_names  # the same turn's next model call already offers it
    assert _tool_message(third, "call_secret") == "the secret is 42"


def test_a_hand_written_schema_is_validated_and_raw_handlers_get_raw_arguments(client, model):
    @define_tool(
        name="pick",
        parameters={
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}},
            "required": ["n"],
        },
    )
    def pick(n):
        """Picks item n."""
        return f"picked {n}"

    @define_tool
    def raw(invocation: ToolInvocation) -> str:
        """Takes anything."""
        return f"raw got {invocation.arguments!r}"

    model.add_tool_calls(
        [("pick", {"n": 0}, "c_low"), ("pick", {"n": 2}, "c_ok"), ("raw", {"a": [1, 2]}, "c_raw")]
    )
    model.add_reply("ok")
    with open_session(
        client, model, tools=[pick, raw], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("go", timeout=TIMEOUT)
    last = model.requests[-1]
    assert (
        _tool_message(last, "c_low") == "Invalid arguments for tool 'pick':\nn: must be >= 1; got 0"
    )
    assert _tool_message(last, "c_ok") == "picked 2"
    assert _tool_message(last, "c_raw") == "raw got {'a': [1, 2]}"
    # Observed on 1.0.81: the CLI moves constraint keywords into the description the model sees.
    assert _offered(model.requests[0], "pick")["parameters"]["properties"]["n"] == {
        "type": "integer",
        "description": "{minimum: 1}",
    }


def test_a_tool_named_like_a_built_in_needs_overrides_built_in_tool(client, model):
    from copilot_sync import SessionError

    @define_tool(name="view")
    def my_view(path: str) -> str:
        """Shadows the built-in view tool."""
        return "mine"

    # Observed on 1.0.81: create succeeds; the first send fails before any model call.
    with open_session(
        client, model, tools=[my_view], on_permission_request=PermissionHandler.approve_all
    ) as session:
        with pytest.raises(SessionError, match="overridesBuiltInTool"):
            session.send_and_wait("view a file", timeout=TIMEOUT)
    assert model.requests == []


def test_set_tools_replaces_the_list_for_the_next_request(client, model):
    @define_tool
    def alpha() -> str:
        """Tool alpha."""
        return "A"

    @define_tool
    def gamma(n: int) -> str:
        """Tool gamma."""
        return f"G{n}"

    model.add_reply("one")
    model.add_tool_call("gamma", {"n": 3}, call_id="call_gamma")
    model.add_reply("gamma said G3")
    with open_session(
        client, model, tools=[alpha], on_permission_request=PermissionHandler.approve_all
    ) as session:
        session.send_and_wait("first", timeout=TIMEOUT)
        session.set_tools([gamma])
        assert [t.name for t in session.get_tools()] == ["gamma"]
        reply = session.send_and_wait("second", timeout=TIMEOUT)

    assert reply.data.content == "gamma said G3"
    first, second, result = model.requests
    assert "alpha" in first.tool_names and "gamma" not in first.tool_names
    assert "gamma" in second.tool_names and "alpha" not in second.tool_names
    assert _tool_message(result, "call_gamma") == "G3"


def test_set_auto_tier_reaches_the_cli_which_wants_the_auto_model(client, model):
    with open_session(client, model) as session:
        with pytest.raises(
            JsonRpcError, match="requires the selected model to be `auto`"
        ) as caught:
            session.set_auto_tier(None)  # an explicit null passes the CLI's schema check
        assert caught.value.code == -32602
