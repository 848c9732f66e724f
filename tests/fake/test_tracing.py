"""OpenTelemetry trace propagation against the fake CLI (docs/TRACING.md): the current
span's ``traceparent``/``tracestate`` on ``session.create``/``session.resume``/``session.send``,
and the context the CLI sends with a request around the handler that answers it.

Spans go to an in-memory exporter of a ``TracerProvider`` used directly (the global
provider is never set, so no other test is affected); the current context is the API's
own, which is what the SDK reads and sets."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import uuid

import pytest

pytest.importorskip("opentelemetry.sdk.trace")

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from copilot_sync import (
    PermissionHandler,
    Tool,
    ToolInvocation,
    _tracing,
)

from .conftest import running

WAIT = 10
TOOL_ANSWER = "session.tools.handlePendingToolCall"
PERMISSION_ANSWER = "session.permissions.handlePendingPermissionRequest"
#: A remote parent with vendor state, as another service would hand it over.
UPSTREAM = {
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "tracestate": "vendor=abc",
}


@pytest.fixture(scope="module")
def provider():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture
def tracer(provider):
    provider[1].clear()
    return provider[0].get_tracer("copilot-sync-tests")


@pytest.fixture
def exporter(provider):
    return provider[1]


def _hex(span_context) -> tuple[str, str]:
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _traceparent(span) -> str:
    trace_id, span_id = _hex(span.get_span_context())
    return f"00-{trace_id}-{span_id}-{span.get_span_context().trace_flags:02x}"


def _child_of(traceparent: str) -> str:
    """What an OpenTelemetry-enabled CLI sends: a span of its own in the caller's trace."""
    return f"00-{traceparent.split('-')[1]}-{uuid.uuid4().hex[:16]}-01"


def _under_upstream():
    """Attach the ``UPSTREAM`` remote context (so spans started now carry its tracestate)."""
    return otel_context.attach(TraceContextTextMapPropagator().extract(UPSTREAM))


def _tool_request(fake, session_id, name, **trace_fields) -> str:
    request_id = str(uuid.uuid4())
    data = {"requestId": request_id, "sessionId": session_id, "toolCallId": "call-1", "toolName": name,
            "arguments": {}, **trace_fields}  # fmt: skip
    fake.emit(session_id, "external_tool.requested", data)
    return request_id


def _answer(fake, method, request_id):
    message = fake.wait_for_request(
        method, WAIT, predicate=lambda m: m["params"].get("requestId") == request_id
    )
    return message["params"]


def _spanning_tool(tracer, seen):
    """A tool whose handler records the span context it runs in and starts a span there."""

    def handler(invocation: ToolInvocation) -> str:
        seen.append(trace.get_current_span().get_span_context())
        with tracer.start_as_current_span("tool work"):
            return "done"

    return Tool("work", "Do work", handler)


# ---------------------------------------------------------------------------- out: create, resume, send


METHODS = ["send", "send_and_wait", "send_async", "stream", "send_and_collect"]


def _send(session, method, prompt):
    if method == "send":
        session.send(prompt)
        session.wait_for_idle(WAIT)
    elif method == "send_and_wait":
        session.send_and_wait(prompt, timeout=WAIT)
    elif method == "send_async":
        session.send_async(prompt, timeout=WAIT).result(WAIT)
    elif method == "stream":
        list(session.stream(prompt, timeout=WAIT))
    else:
        session.send_and_collect(prompt, timeout=WAIT)


@pytest.mark.parametrize("method", METHODS)
def test_every_sending_method_carries_the_current_span(tracer, method):
    with running() as (fake, client):
        session = client.create_session()
        token = _under_upstream()
        try:
            with tracer.start_as_current_span("ask") as span:
                _send(session, method, "traced")
        finally:
            otel_context.detach(token)
        _send(session, method, "untraced")
        traced, untraced = (m["params"] for m in fake.requests("session.send"))
    assert traced["traceparent"] == _traceparent(span)
    assert traced["tracestate"] == "vendor=abc"
    assert "traceparent" not in untraced and "tracestate" not in untraced
    assert untraced == {"sessionId": session.session_id, "prompt": "untraced"}


def test_create_and_resume_carry_the_current_span_and_nothing_without_one(tracer):
    with running() as (fake, client):
        with tracer.start_as_current_span("open") as span:
            session = client.create_session()
            session_id = session.session_id
            session.disconnect()
            client.resume_session(session_id).disconnect()
        plain = client.create_session()
        plain.disconnect()
        created, plain_create = (m["params"] for m in fake.requests("session.create"))
        (resumed,) = (m["params"] for m in fake.requests("session.resume"))
    assert created["traceparent"] == resumed["traceparent"] == _traceparent(span)
    assert "tracestate" not in created  # a span without vendor state sends no tracestate
    assert "traceparent" not in plain_create and "tracestate" not in plain_create


# ---------------------------------------------------------------------------- in: handlers


def test_a_tool_handler_runs_in_the_context_the_cli_sent(tracer, exporter):
    seen = []
    with running() as (fake, client):
        session = client.create_session(tools=[_spanning_tool(tracer, seen)])
        with tracer.start_as_current_span("ask") as caller:
            session.send("use the tool")
        sent = fake.wait_for_request("session.send", WAIT)["params"]["traceparent"]
        cli_span = _child_of(sent)  # the CLI's execute_tool span
        rid = _tool_request(
            fake, session.session_id, "work", traceparent=cli_span, tracestate="cli=1"
        )
        assert _answer(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "done"
        session.wait_for_idle(WAIT)
    (parent,) = seen
    assert parent.is_remote and parent.trace_state.get("cli") == "1"
    assert _hex(parent) == tuple(cli_span.split("-")[1:3])
    (tool_span,) = [s for s in exporter.get_finished_spans() if s.name == "tool work"]
    assert tool_span.context.trace_id == caller.get_span_context().trace_id  # one trace
    assert tool_span.parent.span_id == parent.span_id


def test_without_a_context_from_the_cli_a_handler_runs_in_none(tracer, exporter):
    """Not the caller's: the CLI sends no context, and the handler is not tied to one send."""
    seen = []
    permission_seen = []

    def permission(request, invocation):
        permission_seen.append(trace.get_current_span().get_span_context())
        return PermissionHandler.approve_all(request, invocation)

    with running() as (fake, client):
        with tracer.start_as_current_span("caller"):
            session = client.create_session(
                tools=[_spanning_tool(tracer, seen)], on_permission_request=permission
            )
            rid = _tool_request(fake, session.session_id, "work")
            _answer(fake, TOOL_ANSWER, rid)
            perm_id = str(uuid.uuid4())
            fake.emit(session.session_id, "permission.requested",
                      {"requestId": perm_id, "permissionRequest": {"kind": "read", "path": "/x"}})  # fmt: skip
            _answer(fake, PERMISSION_ANSWER, perm_id)
    assert not seen[0].is_valid and not permission_seen[0].is_valid
    (tool_span,) = [s for s in exporter.get_finished_spans() if s.name == "tool work"]
    assert tool_span.parent is None  # a new trace


def test_a_permission_request_carrying_a_context_runs_its_handler_in_it(tracer):
    seen = []

    def permission(request, invocation):
        seen.append(trace.get_current_span().get_span_context())
        return PermissionHandler.approve_all(request, invocation)

    with running() as (fake, client):
        session = client.create_session(on_permission_request=permission)
        rid = str(uuid.uuid4())
        fake.emit(session.session_id, "permission.requested",
                  {"requestId": rid, "permissionRequest": {"kind": "read", "path": "/x"}, **UPSTREAM})  # fmt: skip
        _answer(fake, PERMISSION_ANSWER, rid)
    assert _hex(seen[0]) == tuple(UPSTREAM["traceparent"].split("-")[1:3])


def test_hooks_and_direct_requests_run_in_the_context_of_their_params(tracer):
    """``hooks.invoke`` carries it in ``input`` (CLI 1.0.102 with OpenTelemetry on); any
    direct request may carry it at the top of its params."""
    seen = {"hook": []}

    def pre_tool_use(hook_input, invocation):
        seen["hook"].append(trace.get_current_span().get_span_context())
        return None

    def user_input(request, invocation):
        seen["user input"] = trace.get_current_span().get_span_context()
        return {"answer": "yes", "wasFreeform": True}

    with running() as (fake, client):
        session = client.create_session(
            hooks={"on_pre_tool_use": pre_tool_use}, on_user_input_request=user_input
        )
        sid = session.session_id
        hook = fake.request("hooks.invoke", {"sessionId": sid, "hookType": "preToolUse",
                                             "input": {"toolName": "bash", **UPSTREAM}})  # fmt: skip
        asked = fake.request("userInput.request", {"sessionId": sid, "question": "ok?", **UPSTREAM})
        plain = fake.request(
            "hooks.invoke", {"sessionId": sid, "hookType": "preToolUse", "input": {}}
        )
        assert "result" in hook and "result" in asked and "result" in plain
    expected = tuple(UPSTREAM["traceparent"].split("-")[1:3])
    traced_hook, plain_hook = seen["hook"]
    assert _hex(traced_hook) == _hex(seen["user input"]) == expected
    assert not plain_hook.is_valid  # without a context: none leaked from the earlier calls


def test_a_malformed_context_from_the_cli_is_ignored(tracer, caplog):
    seen = []
    with running() as (fake, client), caplog.at_level(logging.DEBUG, logger="copilot_sync.tracing"):
        session = client.create_session(tools=[_spanning_tool(tracer, seen)])
        rid = _tool_request(
            fake, session.session_id, "work", traceparent="00-not-a-trace-context", tracestate="x"
        )
        assert _answer(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "done"
    assert not seen[0].is_valid
    assert "malformed trace context" in caplog.text


def test_a_tracing_failure_never_breaks_a_call(tracer, monkeypatch, caplog):
    class Broken:
        def inject(self, carrier, context=None, setter=None):
            raise RuntimeError("propagator bug")

        def extract(self, carrier, context=None, getter=None):
            raise RuntimeError("propagator bug")

    context_api, trace_api, _ = _tracing._load()
    monkeypatch.setattr(_tracing, "_api", (context_api, trace_api, Broken()))
    seen = []
    with running() as (fake, client), caplog.at_level(logging.DEBUG, logger="copilot_sync.tracing"):
        with tracer.start_as_current_span("ask"):
            session = client.create_session(tools=[_spanning_tool(tracer, seen)])
            session.send_and_wait("hi", timeout=WAIT)
        rid = _tool_request(fake, session.session_id, "work", **UPSTREAM)
        assert _answer(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "done"
        assert "traceparent" not in fake.requests("session.send")[0]["params"]
    assert not seen[0].is_valid
    assert "propagator bug" in caplog.text
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name == "copilot_sync.tracing"
    ]


# ---------------------------------------------------------------------------- without opentelemetry


def test_without_opentelemetry_in_process_nothing_is_sent_and_handlers_run(monkeypatch, caplog):
    monkeypatch.setattr(_tracing, "_api", None)
    seen = []
    with running() as (fake, client), caplog.at_level(logging.DEBUG):
        session = client.create_session(
            tools=[Tool("work", "", lambda inv: seen.append(inv) or "done")]
        )
        session.send_and_wait("hi", timeout=WAIT)
        rid = _tool_request(fake, session.session_id, "work", **UPSTREAM)
        assert _answer(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "done"
        create = fake.requests("session.create")[0]["params"]
        send = fake.requests("session.send")[0]["params"]
    assert seen and not {"traceparent", "tracestate"} & (create.keys() | send.keys())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


_ABSENT = textwrap.dedent(
    """
    import json, logging, sys, uuid
    sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
    warnings = []

    class Collect(logging.Handler):
        def emit(self, record):
            warnings.append(record.getMessage())

    logging.getLogger().addHandler(Collect(logging.WARNING))
    from copilot_sync import CopilotClient, Tool
    from copilot_sync.testing import FakeCLI, Scenario

    ran = []
    tool = Tool("work", "", lambda inv: ran.append(inv.tool_name) or "done")
    hook = lambda hook_input, invocation: ran.append("hook")
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session(tools=[tool], hooks={"on_pre_tool_use": hook})
            session.send_and_wait("hi", timeout=10)
            rid = str(uuid.uuid4())
            tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            fake.emit(session.session_id, "external_tool.requested", {"requestId": rid, "toolCallId": "c",
                      "toolName": "work", "arguments": {}, "traceparent": tp})
            answer = fake.wait_for_request("session.tools.handlePendingToolCall", 10)["params"]
            hooked = fake.request("hooks.invoke", {"sessionId": session.session_id, "hookType": "preToolUse",
                                                   "input": {"traceparent": tp}})
            wire = [m["params"] for m in fake.requests() if m.get("method") in ("session.create", "session.send")]
        finally:
            client.stop(timeout=5)
    print(json.dumps({"ran": ran, "answer": answer, "hooked": hooked, "wire": wire, "warnings": warnings,
                      "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry."))}))
    """
)


def test_without_opentelemetry_installed_nothing_is_sent_raised_or_warned(tmp_path):
    script = tmp_path / "absent.py"
    script.write_text(_ABSENT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=50)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ran"] == ["work", "hook"]
    assert result["answer"]["result"]["textResultForLlm"] == "done"
    assert "result" in result["hooked"]
    assert len(result["wire"]) == 2
    assert all(
        "traceparent" not in params and "tracestate" not in params for params in result["wire"]
    )
    assert result["warnings"] == [] and result["otel"] == []
