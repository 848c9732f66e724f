"""copilot_sync.batch end to end on the real CLI with the scripted model: threads, and a
two-worker Dask LocalCluster with a worker killed halfway."""

from __future__ import annotations

import os
import signal

import pytest

from copilot_sync.batch import run_batch

from .conftest import assert_exactly_once

pytestmark = pytest.mark.real_cli

PROMPTS = [f"question {i}" for i in range(20)]
IDS = [str(i) for i in range(20)]


def options(real_cli, cli_env, model) -> dict:
    return {
        "client_options": {"cli_path": str(real_cli.path), "env": cli_env},
        "model": model.model,
        "provider": model.provider(),
        "timeout": 60,
    }


@pytest.mark.timeout(120)
def test_threads_end_to_end(real_cli, cli_env, model, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = run_batch(PROMPTS, output=out, workers=4, sessions_per_cli=4, progress=False, **options(real_cli, cli_env, model))  # fmt: skip
    records = assert_exactly_once(out, IDS)
    assert {r["status"] for r in records} == {"ok"}, [r["error"] for r in records]
    by_id = {r["id"]: r for r in records}
    assert by_id["3"]["text"] == "You said: question 3"
    assert by_id["3"]["cli_version"]
    assert summary.counts == {"ok": 20} and summary.p50_duration is not None


@pytest.mark.timeout(60)
def test_tool_calls_and_usage_are_recorded(real_cli, cli_env, model, tmp_path):
    from copilot_sync import PermissionHandler

    from ._tools import word_count

    out = tmp_path / "out.jsonl"
    model.add_tool_call("word_count", {"text": "one two three"})
    model.add_reply("Three words.")
    options_ = options(real_cli, cli_env, model)
    run_batch(["count"], output=out, progress=False, tools=[word_count], on_permission_request=PermissionHandler.approve_all, **options_)  # fmt: skip
    [record] = assert_exactly_once(out, ["0"])
    assert record["status"] == "ok", record["error"]
    assert record["text"] == "Three words."
    assert record["tool_calls"] == [{"name": "word_count", "arguments": {"text": "one two three"}}]
    assert record["usage"]["input_tokens"] > 0


@pytest.mark.timeout(180)
def test_dask_local_cluster_with_a_worker_killed_then_rerun(real_cli, cli_env, model, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "out.jsonl"
    killed: list[int] = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip

        def kill_one_worker(p):
            if p.done >= len(PROMPTS) // 2 and not killed:
                pid = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        first = run_batch(PROMPTS, output=out, workers=4, executor=client.get_executor(), backoff=0.1, progress=kill_one_worker, **options(real_cli, cli_env, model))  # fmt: skip
        second = run_batch(PROMPTS, output=out, workers=4, executor=client.get_executor(), progress=False, **options(real_cli, cli_env, model))  # fmt: skip
    records = assert_exactly_once(out, IDS)
    assert killed
    assert first.total + second.ran == 20 and second.counts == {"ok": 20}
    assert {r["text"] for r in records} == {f"You said: {p}" for p in PROMPTS}
