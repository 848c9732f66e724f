"""OpenTelemetry trace propagation against the real CLI (scripted model), docs/TRACING.md.

What CLI 1.0.102 does with the ``traceparent`` the SDK sends on ``session.send``:

* with its own telemetry off (the default), nothing comes back: ``external_tool.requested``
  and hook inputs carry no context, so a tool handler's span starts a new trace;
* with it on (``COPILOT_OTEL_ENABLED=true``), its ``invoke_agent`` span is a child of the
  caller's span, ``external_tool.requested`` carries its ``execute_tool`` span and hook
  inputs its ``invoke_agent`` span: the tool handler's span is in the caller's trace.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk.trace")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from copilot_sync import CopilotClient, PermissionHandler, define_tool

from .conftest import open_session

TIMEOUT = 60


@pytest.fixture(scope="module")
def provider():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # used directly: the global provider is never set
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture
def tracer(provider):
    provider[1].clear()
    return provider[0].get_tracer("copilot-sync-tests")


def _run_traced_turn(client, model, tracer, exporter):
    """One turn with a tool call, sent inside the span ``ask``; what each side saw."""
    seen = {"hook": []}

    @define_tool
    def lookup(key: str) -> str:
        """Look a key up."""
        seen["tool"] = trace.get_current_span().get_span_context()
        with tracer.start_as_current_span("lookup work"):
            return f"value of {key}"

    def pre_tool_use(hook_input, invocation):
        seen["hook"].append(
            (hook_input.get("traceparent"), trace.get_current_span().get_span_context())
        )

    model.add_tool_call("lookup", {"key": "k1"}, call_id="call_trace_1")
    model.add_reply("Found it.")
    requested = []
    with open_session(client, model, tools=[lookup], hooks={"on_pre_tool_use": pre_tool_use},
                      on_permission_request=PermissionHandler.approve_all) as session:  # fmt: skip
        session.on("external_tool.requested", lambda e: requested.append(e.raw["data"]))
        with tracer.start_as_current_span("ask") as caller:
            reply = session.send_and_wait("Look up k1", timeout=TIMEOUT)
    assert reply.data.content == "Found it."
    (work,) = [s for s in exporter.get_finished_spans() if s.name == "lookup work"]
    (event,) = requested
    return caller.get_span_context(), work, event, seen


def test_default_cli_sends_no_context_back_so_a_tool_starts_a_new_trace(
    client, model, tracer, provider
):
    caller, work, event, seen = _run_traced_turn(client, model, tracer, provider[1])
    assert "traceparent" not in event and "tracestate" not in event
    assert not seen["tool"].is_valid  # no special context: not the caller's
    assert work.parent is None and work.context.trace_id != caller.trace_id
    ((hook_traceparent, hook_context),) = seen["hook"]
    assert hook_traceparent is None and not hook_context.is_valid


def test_cli_with_telemetry_on_gives_one_trace_from_caller_to_tool(
    cli_env, real_cli, model, tracer, provider, tmp_path
):
    spans_file = tmp_path / "cli-spans.jsonl"
    env = {**cli_env, "COPILOT_OTEL_ENABLED": "true", "COPILOT_OTEL_EXPORTER_TYPE": "file",
           "COPILOT_OTEL_FILE_EXPORTER_PATH": str(spans_file)}  # fmt: skip
    client = CopilotClient(cli_path=real_cli.path, env=env)
    client.start()
    try:
        caller, work, event, seen = _run_traced_turn(client, model, tracer, provider[1])
    finally:
        assert client.stop() == []
    trace_id = format(caller.trace_id, "032x")
    # external_tool.requested carries the CLI's execute_tool span, in the caller's trace ...
    _, event_trace, event_span, _ = event["traceparent"].split("-")
    assert event_trace == trace_id
    # ... and the tool handler ran in it: its span is a child, in the caller's trace.
    assert seen["tool"].is_remote and format(seen["tool"].span_id, "016x") == event_span
    assert work.context.trace_id == caller.trace_id
    assert work.parent.span_id == seen["tool"].span_id
    # The hook's input carries the CLI's invoke_agent span; the hook ran in it.
    ((hook_traceparent, hook_context),) = seen["hook"]
    assert hook_traceparent.split("-")[1] == trace_id and hook_context.trace_id == caller.trace_id
    # The CLI's own spans: invoke_agent is the child of the caller's span (session.send's traceparent).
    cli_spans = [json.loads(line) for line in spans_file.read_text().splitlines() if line.strip()]
    in_trace = {s["spanId"]: s for s in cli_spans if s.get("traceId") == trace_id}
    (agent,) = [s for s in in_trace.values() if s["name"].startswith("invoke_agent")]
    assert agent["parentSpanId"] == format(caller.span_id, "016x")
    assert in_trace[event_span]["name"].startswith("execute_tool")


def test_the_docs_example_runs_offline(cli_env, real_cli, tmp_path):
    """docs/TRACING.md's snippet, as it is (one trace from the caller's span to the tool's)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "TRACING.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", doc, re.S)
    script = tmp_path / "tracing_example.py"
    script.write_text(snippet)
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=55
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Found it.", "True"]
