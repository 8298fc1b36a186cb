"""Sweeps end to end: a real driver process, real trial processes, a real SQLite workspace."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

import trainyard as ty
from trainyard.status import RunStatus

SCRIPT = """
import argparse, os, sys, time
from trainyard import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, default=0.0)
p.add_argument("--q", type=float, default=1.0)
p.add_argument("--steps", type=int, default=1)
p.add_argument("--sleep", type=float, default=0.0)
p.add_argument("--crash-at", type=float, default=None)
a = p.parse_args()
if a.crash_at is not None and a.x == a.crash_at:
    raise RuntimeError("this x always crashes")
run = Run.get_context()
for step in range(a.steps):
    run.log("score", a.q * (step + 1) - (a.x - 2) ** 2)
    run.flush()
    time.sleep(a.sleep)
run.log("other", 1)
"""


def sweep_run(ws, src, args, space, **kw) -> ty.SweepRun:
    cfg = ty.ScriptRunConfig(source_directory=src, script="train.py", arguments=args)
    kw = {"primary_metric": "score", "goal": "maximize", **kw}
    return ty.Experiment(ws, "sweeps").submit(ty.SweepConfig(cfg, space, **kw))


def wait_for_children(run, status, count, timeout=60.0):
    """Until ``count`` trials of the sweep are in ``status`` (or the time is up)."""
    deadline = time.monotonic() + timeout
    while sum(k.status is status for k in children(run)) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def children(run):
    return ws_children(run.workspace, run.id)


def ws_children(ws, run_id):
    return ws.store.search_runs(parent_id=run_id)


def max_overlap(runs):
    events = sorted(
        [(r.start_time, 1) for r in runs if r.start_time] + [(r.end_time, -1) for r in runs if r.end_time]
    )
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def test_random_sweep_runs_every_trial_and_finds_the_best(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--x", "${{search_space.x}}"],
        {"x": ty.uniform(0, 4)},
        sampling="random",
        max_total_trials=6,
        max_concurrent_trials=2,
        seed=3,
    )
    run.wait_for_completion()
    kids = children(run)
    assert len(kids) == 6 and {k.status for k in kids} == {RunStatus.COMPLETED}
    assert max_overlap(kids) <= 2
    xs = [float(k.params["x"]) for k in kids]
    assert len(set(xs)) == 6 and all(0 <= x <= 4 for x in xs)
    best = run.get_best_run()
    ranked = run.get_children_sorted_by_primary_metric()
    assert best.id == ranked[0]["run_id"] == run.tags["sweep.best_run_id"]
    assert [r["best_primary_metric"] for r in ranked] == sorted(
        (k.metrics["score"] for k in kids), reverse=True
    )
    table = run.get_metrics()["trials"]
    assert sorted(table["trial"]) == list(range(6)) and len(table["score"]) == 6
    params = run.refresh().params
    assert (
        params["sampling"] == "random" and params["search_space"] == "x=uniform(min_value=0.0, max_value=4.0)"
    )
    assert params["early_termination"] == "none" and params["max_total_trials"] == "6"


def test_grid_stops_when_the_space_is_exhausted(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws, src, [], {"x": ty.choice(1, 2, 3)}, sampling="grid", max_total_trials=10, max_concurrent_trials=2
    )
    run.wait_for_completion()
    assert sorted(float(k.params["x"]) for k in children(run)) == [1, 2, 3]
    assert float(run.get_best_run().refresh().params["x"]) == 2


def test_bandit_policy_stops_a_hopeless_trial(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--x", "2", "--q", "${{search_space.q}}", "--steps", "12", "--sleep", "0.25"],
        {"q": ty.choice(1.0, 0.05)},
        sampling="grid",
        max_concurrent_trials=2,
        early_termination=ty.BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2),
    )
    run.wait_for_completion()
    by_q = {float(k.params["q"]): k for k in children(run)}
    assert by_q[1.0].status is RunStatus.COMPLETED
    assert by_q[0.05].status is RunStatus.CANCELED
    assert by_q[0.05].error.startswith("early termination by BanditPolicy(slack_factor=0.2")
    assert (
        by_q[0.05].cancel_reason == by_q[0.05].error and by_q[0.05].tags["sweep.early_terminated"] == "true"
    )
    assert by_q[1.0].cancel_reason is None and "sweep.early_terminated" not in by_q[1.0].tags
    assert run.get_best_run().id == by_q[1.0].id


ENDS_AT_ONCE = """
import argparse, pathlib, time
from trainyard import Run
p = argparse.ArgumentParser()
p.add_argument("--q", type=float)
p.add_argument("--go")
a = p.parse_args()
run = Run.get_context()
if a.q < 1:  # it waits to be told to go on, then logs its last steps and ends at once
    (pathlib.Path(a.go) / "ready").touch()
    while not (pathlib.Path(a.go) / "go").exists():
        time.sleep(0.02)
for step in range(3):
    run.log("score", a.q * (step + 1))
    run.flush()
if a.q == 1:
    time.sleep(3)
"""


def ended(worker_pid: int) -> bool:
    """Whether every process the worker started has exited (a zombie its stopped worker has not reaped)."""
    states = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == worker_pid:
                states.append(fields[0])
    return all(state == "Z" for state in states)


def test_a_trial_the_policy_stops_after_its_last_step_is_completed_without_a_stop_reason(
    ws, script_dir, tmp_path
):
    src = script_dir({"train.py": ENDS_AT_ONCE})
    go = tmp_path / "signals"
    go.mkdir()
    run = sweep_run(
        ws,
        src,
        ["--q", "${{search_space.q}}", "--go", str(go)],
        {"q": ty.choice(1.0, 0.05)},
        sampling="grid",
        max_concurrent_trials=2,
        early_termination=ty.BanditPolicy(slack_factor=0.2, delay_evaluation=2),
    )
    deadline = time.monotonic() + 60
    while not (go / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    late = next(k for k in children(run) if k.params["q"] == "0.05")
    worker = int(late.worker.rsplit(":", 2)[1])
    # the stop reaches the worker only after the script has logged its last step and ended
    os.kill(worker, signal.SIGSTOP)
    try:
        (go / "go").touch()
        deadline = time.monotonic() + 20
        while (
            not (ws.store.get_run(late.id).cancel_requested and ended(worker)) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        os.kill(worker, signal.SIGCONT)
    run.wait_for_completion()
    assert "stopped: early termination by BanditPolicy" in run.log_text()[0]
    late = ws.store.get_run(late.id)
    assert (late.status, late.cancel_reason, late.error) == (RunStatus.COMPLETED, None, None)
    assert "sweep.early_terminated" not in late.tags


def test_a_crashing_trial_fails_and_the_sweep_goes_on(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws, src, ["--crash-at", "3"], {"x": ty.choice(1, 2, 3)}, sampling="grid", max_concurrent_trials=1
    )
    run.wait_for_completion()
    statuses = sorted(k.status.value for k in children(run))
    assert statuses == ["completed", "completed", "failed"]
    failed = next(k for k in children(run) if k.status is RunStatus.FAILED)
    assert "this x always crashes" in failed.error


def test_a_metric_no_trial_logs_fails_the_sweep_naming_what_was_logged(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        [],
        {"x": ty.choice(1, 2)},
        primary_metric="val_auc",
        sampling="grid",
        max_concurrent_trials=2,
    )
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "failed"
    assert "val_auc" in details["error"] and "other, score" in details["error"]


def test_cancel_stops_the_sweep_and_its_trials(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--steps", "200", "--sleep", "0.2"],
        {"x": ty.uniform(0, 1)},
        max_total_trials=10,
        max_concurrent_trials=2,
    )
    wait_for_children(run, RunStatus.RUNNING, 2, timeout=30)
    run.cancel()
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=40)
    assert details["status"] == "canceled"
    kids = children(run)
    assert len(kids) == 2 and {k.status for k in kids} == {RunStatus.CANCELED}
    assert run.refresh().cancel_reason == "canceled by the user"
    assert {(k.cancel_reason, k.error) for k in kids} == {
        ("the sweep was canceled", "the sweep was canceled")
    }


def test_timeout_ends_the_sweep(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--steps", "200", "--sleep", "0.2"],
        {"x": ty.uniform(0, 1)},
        max_total_trials=10,
        max_concurrent_trials=2,
        timeout_minutes=6 / 60,  # long enough for a trial to start on a loaded machine
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert details["status"] in ("completed", "failed")
    assert {k.status for k in children(run)} == {RunStatus.CANCELED}
    assert {k.cancel_reason for k in children(run)} == {"the sweep's timeout (6s) was reached"}
    assert "timeout" in run.log_text()[0]


def test_a_killed_driver_comes_back_and_runs_exactly_the_trials_asked(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--sleep", "0.4"],
        {"x": ty.uniform(0, 4)},
        sampling="bayesian",
        max_total_trials=8,
        max_concurrent_trials=2,
        seed=0,
    )
    wait_for_children(run, RunStatus.COMPLETED, 3, timeout=60)
    worker = run.refresh().worker
    os.kill(int(worker.rsplit(":", 2)[1]), signal.SIGKILL)
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "completed" and details["attempt"] == 2
    kids = children(run)
    assert len(kids) == 8
    assert sorted(int(k.tags["sweep.trial"]) for k in kids) == list(range(8))
    assert {k.status for k in kids} == {RunStatus.COMPLETED}
    assert "resumed:" in run.log_text()[0]


def test_resume_a_seeded_sweep_runs_the_trials_left_and_never_a_finished_configuration(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    first = sweep_run(
        ws,
        src,
        ["--sleep", "0.3"],
        {"x": ty.uniform(0, 4)},
        max_total_trials=6,
        max_concurrent_trials=1,
        seed=1,
    )
    wait_for_children(first, RunStatus.COMPLETED, 2, timeout=60)
    first.cancel()
    first.wait_for_completion(raise_on_error=False, timeout_seconds=40)
    done = sum(k.status is RunStatus.COMPLETED for k in children(first))
    from trainyard.sweep.submit import resume_spec, submit_sweep

    spec = resume_spec(ws, first.refresh())
    assert spec.limits.max_total_trials == 6 - done and spec.warm_start == [first.id]
    second = ty.SweepRun(ws, submit_sweep(ws, spec).id)
    second.wait_for_completion()
    assert len(children(second)) == 6 - done
    assert f"resumed: {done} trial(s) known" in second.log_text()[0]
    finished = {k.params["x"] for k in children(first) if k.status is RunStatus.COMPLETED}
    assert not finished & {k.params["x"] for k in children(second)}  # the seed's sequence goes on
    numbers = sorted(int(k.tags["sweep.trial"]) for k in children(second))
    assert numbers == list(range(len(children(first)), len(children(first)) + 6 - done))


def test_warm_start_from_an_unknown_run_is_refused(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    with pytest.raises(ty.TrainyardError, match="no run"):
        sweep_run(ws, src, [], {"x": ty.uniform(0, 1)}, warm_start=["0" * 32])
    assert ws.store.search_runs() == []


def test_a_trial_whose_worker_dies_is_failed_by_the_driver_and_the_sweep_goes_on(ws, script_dir):
    src = script_dir({"train.py": SCRIPT})
    run = sweep_run(
        ws,
        src,
        ["--sleep", "30", "--steps", "2"],
        {"x": ty.choice(1, 2)},
        sampling="grid",
        max_concurrent_trials=2,
        timeout_minutes=1,
    )
    wait_for_children(run, RunStatus.RUNNING, 2, timeout=30)
    victim = children(run)[0]
    os.kill(int(victim.worker.rsplit(":", 2)[1]), signal.SIGKILL)
    # nobody waits on the sweep here: the driver's own reaping must notice
    deadline = time.monotonic() + 20
    while ws.store.get_run(victim.id).status is RunStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ws.store.get_run(victim.id).status is RunStatus.FAILED
    run.cancel()
    run.wait_for_completion(raise_on_error=False, timeout_seconds=40)
