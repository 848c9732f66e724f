"""copilot_sync.batch on worker processes (fake CLI): a killed worker loses nothing."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing

import pytest

from copilot_sync.batch import run_batch
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import assert_exactly_once, kill_a_pool_worker, read_jsonl

PROMPTS = [f"prompt {i}" for i in range(20)]
IDS = [str(i) for i in range(20)]


@pytest.mark.timeout(90)
def test_the_batchs_own_process_pool_is_replaced_when_a_worker_is_killed(tmp_path):
    out = tmp_path / "out.jsonl"
    killed = []
    with FakeCLI(Scenario(think_time=0.05)) as fake:

        def progress(p):
            if p.done >= 4 and not killed:
                killed.append(kill_a_pool_worker())

        summary = run_batch(PROMPTS, output=out, workers=2, executor="processes", backoff=0.05, client_options={"cli_path": fake.cli_path}, progress=progress)  # fmt: skip
    records = assert_exactly_once(out, IDS)
    assert killed and {r["status"] for r in records} == {"ok"}
    assert summary.counts == {"ok": 20}
    assert {r["text"] for r in records} == {f"echo: {p}" for p in PROMPTS}


@pytest.mark.timeout(90)
def test_a_callers_broken_process_pool_ends_the_batch_and_a_rerun_finishes(tmp_path):
    out = tmp_path / "out.jsonl"
    killed = []
    spawn = multiprocessing.get_context("spawn")
    with FakeCLI(Scenario(think_time=0.05)) as fake:

        def progress(p):
            if p.done >= 4 and not killed:
                killed.append(kill_a_pool_worker())

        options = {"client_options": {"cli_path": fake.cli_path}, "workers": 2}
        with cf.ProcessPoolExecutor(2, mp_context=spawn) as pool:
            with pytest.raises(cf.BrokenExecutor):
                run_batch(PROMPTS, output=out, executor=pool, progress=progress, **options)
        first = read_jsonl(out)
        assert 4 <= len(first) < 20 and len({r["id"] for r in first}) == len(first)
        with cf.ProcessPoolExecutor(2, mp_context=spawn) as pool:
            summary = run_batch(PROMPTS, output=out, executor=pool, progress=False, **options)
    assert_exactly_once(out, IDS)
    assert summary.skipped == len(first) and summary.counts == {"ok": 20}


@pytest.mark.timeout(60)
def test_unpicklable_tools_travel_by_reference(tmp_path):
    from copilot_sync.batch import Ref

    from ._tools import word_count

    out = tmp_path / "out.jsonl"
    with pytest.raises(TypeError, match="Ref"):
        run_batch(["x"], output=out, executor="processes", tools=[word_count])
    with FakeCLI(Scenario()) as fake:
        options = {"client_options": {"cli_path": fake.cli_path}, "progress": False}
        run_batch(PROMPTS[:2], output=out, workers=2, executor="processes", tools=[Ref("tests.batch._tools:word_count")], **options)  # fmt: skip
        creates = [m["params"] for m in fake.received if m.get("method") == "session.create"]
    assert_exactly_once(out, IDS[:2])
    assert [[t["name"] for t in p["tools"]] for p in creates] == [["word_count"], ["word_count"]]
    with pytest.raises(ValueError):
        Ref("no_colon")
