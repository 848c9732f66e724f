"""copilot_sync.batch on the fake CLI with threads: records, resume, repair, retries, faults."""

from __future__ import annotations

import dataclasses
import json

import pytest

from copilot_sync.batch import BatchRunner, BatchSummary, read_records, run_batch
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import default, kill

from .conftest import assert_exactly_once, read_jsonl, sends

PROMPTS = [f"prompt {i}" for i in range(20)]
IDS = [str(i) for i in range(20)]


def opts(fake) -> dict:
    return {"client_options": {"cli_path": fake.cli_path}, "progress": False}


def test_every_item_is_recorded_once_with_its_reply(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = run_batch(PROMPTS, output=out, workers=8, sessions_per_cli=4, **opts(fake))
    records = assert_exactly_once(out, IDS)
    by_id = {r["id"]: r for r in records}
    assert by_id["7"]["text"] == "echo: prompt 7"
    assert list(by_id["7"]) == [
        "id", "status", "text", "tool_calls", "usage", "duration", "cli_version",
        "error_type", "error", "attempts",
    ]  # fmt: skip
    assert {r["status"] for r in records} == {"ok"}
    assert {r["attempts"] for r in records} == {1}
    assert {r["cli_version"] for r in records} == {"1.0.81-fake"}
    assert summary.counts == {"ok": 20} and summary.ran == 20 and summary.pending == 0
    assert len(fake.instances) == 2  # ceil(8 workers / 4 sessions per CLI)


def test_records_with_ids_and_per_item_options(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    items = [{"id": "a", "prompt": "x", "model": "m-1"}, {"id": "b", "prompt": "y", "timeout": 30}]
    run_batch(items, output=out, **opts(fake))
    assert_exactly_once(out, ["a", "b"])
    creates = [m["params"] for m in fake.received if m.get("method") == "session.create"]
    assert sorted(str(p.get("model")) for p in creates) == ["None", "m-1"]


def test_duplicate_ids_are_a_value_error_before_anything_runs(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match="duplicate item id 'a'"):
        run_batch([{"id": "a", "prompt": "1"}, "2", {"id": "a", "prompt": "3"}], output=out, **opts(fake))  # fmt: skip
    with pytest.raises(ValueError, match="duplicate item id '1'"):
        run_batch(["0", {"id": "1", "prompt": "x"}, "2", {"id": 1, "prompt": "y"}], output=out)
    assert not out.exists() and fake.instances == []


def test_resume_runs_only_the_items_without_a_record(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    run_batch(PROMPTS[:8], output=out, workers=4, **opts(fake))
    assert sends(fake) == 8
    summary = run_batch(PROMPTS, output=out, workers=4, **opts(fake))
    assert sends(fake) == 20
    assert_exactly_once(out, IDS)
    assert summary.skipped == 8 and summary.ran == 12 and summary.counts == {"ok": 20}
    assert run_batch(PROMPTS, output=out, **opts(fake)).ran == 0
    assert sends(fake) == 20


def test_a_cut_off_last_line_is_removed_and_its_item_rerun(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    run_batch(PROMPTS[:5], output=out, **opts(fake))
    with open(out, "ab") as handle:
        handle.write(b'{"id": "5", "status": "o')  # a write cut off by a kill
    assert sorted(r["id"] for r in read_records(out)) == sorted(IDS[:5])  # the cut line is skipped
    run_batch(PROMPTS[:8], output=out, **opts(fake))
    records = assert_exactly_once(out, IDS[:8])
    assert all(r["status"] == "ok" for r in records)


def test_a_non_retryable_error_is_recorded_once_without_retry(tmp_path):
    out = tmp_path / "out.jsonl"
    with FakeCLI(Scenario(turn_error="No GitHub OAuth token available")) as fake:
        summary = run_batch(PROMPTS[:4], output=out, retries=3, backoff=0.01, **opts(fake))
        assert sends(fake) == 4
    records = assert_exactly_once(out, IDS[:4])
    assert {(r["status"], r["error_type"], r["attempts"]) for r in records} == {
        ("error", "AuthenticationError", 1)
    }
    assert "signed in" in records[0]["error"].lower() or "sign in" in records[0]["error"].lower()
    assert summary.counts == {"error": 4} and summary.error_types == {"AuthenticationError": 4}


def test_a_bad_option_is_not_retried(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    run_batch(PROMPTS[:2], output=out, retries=3, modle="gpt-5", **opts(fake))
    records = assert_exactly_once(out, IDS[:2])
    assert {(r["error_type"], r["attempts"]) for r in records} == {("TypeError", 1)}
    assert "model" in records[0]["error"]  # the "did you mean"


def test_a_transient_error_is_retried_with_backoff_then_succeeds(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    fake.set_turn_error("model overloaded, try again")
    seen = []

    def progress(p):
        seen.append(p)
        if p.retrying:
            fake.set_turn_error(None)

    summary = run_batch(["only"], output=out, retries=3, backoff=0.05, **{**opts(fake), "progress": progress})  # fmt: skip
    [record] = assert_exactly_once(out, ["0"])
    assert record["status"] == "ok" and record["attempts"] >= 2 and record["text"] == "echo: only"
    assert any(p.retrying for p in seen) and summary.retries == record["attempts"] - 1
    assert sends(fake) == record["attempts"]


def test_retries_run_out_and_the_last_error_is_recorded(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    fake.set_turn_error("model overloaded, try again")
    run_batch(["x"], output=out, retries=2, backoff=0.01, **opts(fake))
    [record] = assert_exactly_once(out, ["0"])
    assert (record["status"], record["error_type"], record["attempts"]) == (
        "error",
        "SessionError",
        3,
    )
    assert "overloaded" in record["error"]


def test_error_records_count_as_done_unless_rerun_errors(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    fake.set_turn_error("broken")
    run_batch(PROMPTS[:3], output=out, retries=0, **opts(fake))
    fake.set_turn_error(None)
    assert run_batch(PROMPTS[:3], output=out, **opts(fake)).counts == {"error": 3}
    summary = run_batch(PROMPTS[:3], output=out, rerun_errors=True, **opts(fake))
    assert summary.counts == {"ok": 3} and summary.ran == 3
    assert len(read_jsonl(out)) == 6  # append-only: the error lines stay, the last one counts
    assert BatchSummary.from_file(out).counts == {"ok": 3}


@dataclasses.dataclass
class Answer:
    name: str
    n: int


def test_structured_output_records_hold_the_json_value(tmp_path):
    out = tmp_path / "out.jsonl"
    with FakeCLI(Scenario(reply_text='{"name": "{prompt}", "n": 3}')) as fake:
        run_batch(["a", "b"], output=out, response_format=Answer, **opts(fake))
        schema = {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        }
        run_batch([{"id": "c", "prompt": "c", "response_format": schema}], output=out, **opts(fake))
    records = {r["id"]: r for r in assert_exactly_once(out, ["0", "1", "c"])}
    assert records["1"]["text"] == {"name": "b", "n": 3}
    assert records["c"]["text"] == {"name": "c", "n": 3}


def test_a_reply_of_the_wrong_shape_is_retried_once_then_recorded(tmp_path):
    out = tmp_path / "out.jsonl"
    with FakeCLI(Scenario(reply_text="not json")) as fake:
        run_batch(["a"], output=out, response_format=Answer, backoff=0.01, **opts(fake))
    [record] = assert_exactly_once(out, ["0"])
    assert (record["error_type"], record["attempts"]) == ("StructuredOutputError", 2)


@pytest.mark.timeout(60)
def test_a_cli_killed_mid_batch_loses_nothing(tmp_path):
    out = tmp_path / "out.jsonl"
    # the first CLI serves two turns, then dies on receiving its third: that item is in flight
    # (a kill from outside can land while the CLI is idle between items, and retry nothing)
    scenario = Scenario(
        think_time=0.1,
        rules=[
            Rule(method="session.send", instance=0, times=2, actions=[default()]),
            Rule(method="session.send", instance=0, times=1, actions=[kill()]),
        ],
    )
    with FakeCLI(scenario) as fake:
        run_batch(PROMPTS, output=out, workers=4, sessions_per_cli=2, backoff=0.05, client_options={"cli_path": fake.cli_path}, progress=False)  # fmt: skip
        assert not fake.instances[0].alive and len(fake.instances) >= 3
    records = assert_exactly_once(out, IDS)
    assert {r["status"] for r in records} == {"ok"}
    assert any(r["attempts"] > 1 for r in records)


@pytest.mark.timeout(60)
def test_ctrl_c_in_the_coordinator_leaves_a_valid_file_and_a_rerun_finishes(tmp_path):
    out = tmp_path / "out.jsonl"
    with FakeCLI(Scenario(think_time=0.05)) as fake:

        def progress(p):
            if p.done >= 5:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run_batch(PROMPTS, output=out, workers=4, client_options={"cli_path": fake.cli_path}, progress=progress)  # fmt: skip
        first = read_jsonl(out)
        assert 5 <= len(first) < 20 and len({r["id"] for r in first}) == len(first)
        summary = run_batch(PROMPTS, output=out, workers=4, **opts(fake))
    assert_exactly_once(out, IDS)
    assert summary.skipped == len(first) and summary.ran == 20 - len(first)


def test_the_runner_yields_each_record_as_it_is_written(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    runner = BatchRunner(PROMPTS[:6], output=out, workers=2, **opts(fake))
    got = []
    for record in runner:
        got.append(record["id"])
        assert record["id"] in {r["id"] for r in read_jsonl(out)}  # written before it is yielded
    assert sorted(got) == sorted(IDS[:6]) and runner.summary is not None
    with pytest.raises(RuntimeError):
        iter(runner)


def test_breaking_out_of_the_runner_stops_and_a_rerun_finishes(fake, tmp_path):
    out = tmp_path / "out.jsonl"
    runner = BatchRunner(PROMPTS, output=out, workers=2, **opts(fake))
    for _ in runner:
        break
    partial = read_jsonl(out)
    assert 1 <= len(partial) < 20
    run_batch(PROMPTS, output=out, **opts(fake))
    assert_exactly_once(out, IDS)


def test_summary_table_and_logged_progress(fake, tmp_path, caplog):
    out = tmp_path / "out.jsonl"
    caplog.set_level("INFO", logger="copilot_sync.batch")
    summary = run_batch(PROMPTS[:3], output=out, client_options={"cli_path": fake.cli_path}, progress=None)  # fmt: skip
    assert any("3/3 done" in m for m in caplog.messages)  # stderr is no TTY here: log lines
    text = str(summary)
    assert "items recorded    3" in text and "duration p95" in text and "cost" in text
    assert json.loads(out.read_text().splitlines()[0])["usage"] == {
        "input_tokens": 0, "output_tokens": 0, "cost": 0.0,
    }  # fmt: skip


def test_bad_arguments(tmp_path):
    out = tmp_path / "out.jsonl"
    for bad in ({"workers": 0}, {"retries": -1}, {"sessions_per_cli": 0}, {"executor": "gpus"}):
        with pytest.raises(ValueError):
            run_batch(["x"], output=out, **bad)
    with pytest.raises(ValueError, match="unknown option"):
        run_batch([{"prompt": "x", "temperature": 2}], output=out)
    with pytest.raises(TypeError):
        run_batch([3], output=out)
    with pytest.raises(TypeError, match="picklable"):
        run_batch(["x"], output=out, executor="processes", on_event=lambda event: None)
    assert not out.exists()


def test_which_failures_are_retried():
    from copilot_sync import (
        AuthenticationError,
        ConnectionLostError,
        CopilotTimeoutError,
        NoReplyError,
        ProcessExitedError,
        SessionError,
        StructuredOutputError,
    )
    from copilot_sync.batch._work import is_retryable

    for exc in (ConnectionLostError("x"), ProcessExitedError("x"), CopilotTimeoutError("x"), SessionError("x")):  # fmt: skip
        assert is_retryable(exc, 1) and is_retryable(exc, 5)
    for exc in (AuthenticationError("x"), NoReplyError("x"), TypeError("x"), ValueError("x"), RuntimeError("x")):  # fmt: skip
        assert not is_retryable(exc, 1)
    assert is_retryable(StructuredOutputError("x"), 1) and not is_retryable(
        StructuredOutputError("x"), 2
    )
